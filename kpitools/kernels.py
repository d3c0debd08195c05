"""A warm Jupyter kernel that runs report notebook after report notebook.

``kpitools run`` (without ``--cold``) keeps one long-lived worker process per job slot; each
worker owns one :class:`WarmKernel`. The kernel imports what every report needs once
(:data:`START_CODE`), and before each notebook it is made clean (:data:`RESET_CODE`): the
user namespace is emptied (``%reset -f``), figures are closed, matplotlib's rcParams (but
its backend and interactive mode, which make the inline figures show), the warning filters, ``sys.path`` and the working directory are put back, and every kpitools
module's ``clear_brand_cache()`` is called. It is restarted every ``restart_every`` brands
(bounding its memory), and at once after a hung cell, a crash or a failed clean-up.

The kernel manager is jupyter_client's :class:`~jupyter_client.manager.AsyncKernelManager`,
the one nbclient makes for itself: with the blocking manager nbclient's event loop blocks
on the output channel, so a cell timeout or a SIGTERM would wait for the cell to end.
"""

from __future__ import annotations

import inspect
import os
import signal
from pathlib import Path
from typing import Any

#: seconds a report notebook's cell may run by default (``kpitools run --cell-timeout``)
DEFAULT_CELL_TIMEOUT = 600.0

#: brands a warm worker's kernel runs before it is restarted (``--restart-every``)
DEFAULT_RESTART_EVERY = 25

#: run once in a new kernel: what every report imports, and the state a reset goes back to
START_CODE = """\
import os as _os, sys as _sys, types as _types, warnings as _warnings
import matplotlib as _mpl
import matplotlib.pyplot as _plt
import pandas as _pd
import kpitools, kpitools.params, kpitools.kpis.compute, kpitools.report.notebook
_state = _types.ModuleType("_kpitools_warm_state")
_state.rc = _mpl.rcParams.copy()
_state.filters = list(_warnings.filters)
_state.path = list(_sys.path)
_sys.modules["_kpitools_warm_state"] = _state
del _os, _sys, _types, _warnings, _mpl, _plt, _pd, _state
"""

#: run before each notebook (not stored in the history); ``{cwd!r}`` is the notebook's folder
RESET_CODE = """\
get_ipython().run_line_magic("reset", "-f")
def _kpitools_reset(cwd):
    import os, sys, warnings
    import matplotlib
    import matplotlib.pyplot as plt
    state = sys.modules["_kpitools_warm_state"]
    plt.close("all")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # the backend and interactive mode are the kernel's (the inline backend turns
        # interactive on when it starts): restoring them would stop figures showing
        matplotlib.rcParams.update(
            {{k: v for k, v in state.rc.items() if k not in ("backend", "interactive")}}
        )
    warnings.resetwarnings()  # also forgets which warnings were already shown
    warnings.filters[:] = state.filters
    sys.path[:] = state.path
    os.chdir(cwd)
    for name, mod in list(sys.modules.items()):
        clear = getattr(mod, "clear_brand_cache", None) if name.startswith("kpitools") else None
        if callable(clear):
            clear()
    get_ipython().execution_count = 1
_kpitools_reset({cwd!r})
del _kpitools_reset
"""


class KernelStartError(RuntimeError):
    """The warm kernel could not be started or made clean."""


def _sync(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``fn`` and, when it returns an awaitable, run it to its end (jupyter's loop)."""
    from jupyter_core.utils import run_sync

    async def call() -> Any:
        out = fn(*args, **kwargs)
        return await out if inspect.isawaitable(out) else out

    return run_sync(call)()


def _tracking_manager_class() -> type:
    """An :class:`AsyncKernelManager` that remembers the clients it hands out, so that the
    channels papermill opens for each notebook (and leaves open on a kernel it does not own)
    are closed after the notebook: without it a worker leaks sockets brand after brand."""
    from jupyter_client.manager import AsyncKernelManager

    class TrackingKernelManager(AsyncKernelManager):  # type: ignore[misc]
        def client(self, **kwargs: Any) -> Any:
            kc = super().client(**kwargs)
            self.__dict__.setdefault("_kpitools_clients", []).append(kc)
            return kc

    return TrackingKernelManager


class WarmKernel:
    """One reusable Jupyter kernel, made clean before each notebook.

    Parameters
    ----------
    restart_every : int
        Brands run in one kernel before it is restarted (bounds its memory).
    log_file : path, optional
        Where the kernel process's own stdout/stderr go (the worker's log).

    Examples
    --------
    >>> kernel = WarmKernel(restart_every=10)  # doctest: +SKIP
    >>> km = kernel.prepare("notebooks")       # clean, started if needed
    >>> pm.execute_notebook(nb, out, km=km)    # papermill runs in it
    >>> kernel.release_clients()
    """

    def __init__(self, restart_every: int = DEFAULT_RESTART_EVERY, log_file: Any = None):
        self.restart_every = max(1, int(restart_every))
        self.log_file = Path(log_file) if log_file else None
        self.km: Any = None
        self.brands = 0  # brands begun in the current kernel
        self.starts = 0  # kernels started by this worker
        self.needs_restart = False

    # -- life cycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Start a new kernel and pre-import what every report needs.

        Raises
        ------
        KernelStartError
            When the kernel does not start or its start code fails.
        """
        self.shutdown()
        km = _tracking_manager_class()(kernel_name="python3")
        out: Any = None
        if self.log_file is not None:
            try:
                out = open(self.log_file, "a", encoding="utf-8")  # noqa: SIM115 - the kernel's
            except OSError:
                out = None
        try:
            _sync(km.start_kernel, stdout=out, stderr=out)
        except Exception as exc:  # noqa: BLE001 - no kernel spec, cannot exec python
            raise KernelStartError(f"the warm kernel did not start: {exc}") from None
        finally:
            if out is not None:
                out.close()  # the kernel process has its own copy
        self.km = km
        self.brands = 0
        self.starts += 1
        self.needs_restart = False
        self._run(START_CODE, timeout=120)

    def shutdown(self) -> None:
        """Stop the kernel at once, with its process group (nothing of it is kept)."""
        km, self.km = self.km, None
        if km is None:
            return
        self._release(km)
        self._kill(km)
        try:
            _sync(km.shutdown_kernel, now=True)
        except Exception:  # noqa: BLE001 - already dead
            pass
        try:
            _sync(km.cleanup_resources)
        except Exception:  # noqa: BLE001
            pass

    def kill(self) -> None:
        """SIGKILL the kernel's process group now (a hung cell, a SIGTERM); the next
        :meth:`prepare` starts a new kernel."""
        self.needs_restart = True
        if self.km is not None:
            self._kill(self.km)

    @staticmethod
    def _kill(km: Any) -> None:
        proc = getattr(getattr(km, "provisioner", None), "process", None)
        pid = getattr(proc, "pid", None)
        if not pid:
            return
        try:  # jupyter_client starts a kernel in its own session: its group is its own
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    @property
    def pid(self) -> int | None:
        """The kernel process id, None without a kernel."""
        proc = getattr(getattr(self.km, "provisioner", None), "process", None)
        return getattr(proc, "pid", None)

    def alive(self) -> bool:
        """Whether the kernel process is running."""
        if self.km is None:
            return False
        try:
            return bool(_sync(self.km.is_alive))
        except Exception:  # noqa: BLE001
            return False

    # -- per brand / per notebook --------------------------------------------------------------
    def begin_brand(self) -> None:
        """Count a brand; the kernel is restarted first when it ran ``restart_every``."""
        if self.brands >= self.restart_every:
            self.needs_restart = True
        self.brands += 1

    def prepare(self, cwd: str | os.PathLike) -> Any:
        """The kernel manager to run the next notebook in, with a clean namespace.

        Restarts the kernel first when it is dead, flagged (a timeout, a crash) or has run
        ``restart_every`` brands.

        Raises
        ------
        KernelStartError
            When no clean kernel can be had.
        """
        if self.needs_restart or not self.alive():
            self.start()
            self.brands = 1  # the brand under way
        self._run(RESET_CODE.format(cwd=str(cwd)), timeout=60)
        return self.km

    def release_clients(self) -> None:
        """Close the channels of the clients handed out for the last notebook."""
        if self.km is not None:
            self._release(self.km)

    @staticmethod
    def _release(km: Any) -> None:
        clients = km.__dict__.get("_kpitools_clients") or []
        while clients:
            kc = clients.pop()
            try:
                _sync(kc.stop_channels)
            except Exception:  # noqa: BLE001 - already closed
                pass

    def _run(self, code: str, timeout: float) -> None:
        """Execute ``code`` in the kernel (out of its history); raise when it fails."""
        from jupyter_client.blocking import BlockingKernelClient

        kc = BlockingKernelClient()
        kc.load_connection_info(self.km.get_connection_info())
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=timeout)
            reply = kc.execute_interactive(
                code, store_history=False, timeout=timeout, output_hook=lambda msg: None
            )
        except Exception as exc:  # noqa: BLE001 - a kernel that does not answer
            self.needs_restart = True
            raise KernelStartError(f"the warm kernel did not answer: {exc}") from None
        finally:
            kc.stop_channels()
        content = reply.get("content", {})
        if content.get("status") != "ok":
            self.needs_restart = True
            raise KernelStartError(
                f"the warm kernel's set-up failed: {content.get('ename')}: {content.get('evalue')}"
            )
