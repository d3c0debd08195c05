"""The canonical CRM data model, declared once.

Every data source is mapped onto these tables and columns (see ``docs/data-model.md``).
Types are *kinds* rather than exact database types, so that a user's ``INTEGER`` or ``BIGINT``
key, ``FLOAT`` or ``DECIMAL`` amount, ``TIMESTAMP`` or ``TIMESTAMPTZ`` date all pass:

``id``
    integer or string identifier.
``int``
    any integer.
``float``
    any number (integer, floating point or decimal).
``string``
    text.
``timestamp``
    timestamp or date.
``boolean``
    true / false.

A column marked ``optional`` may be absent from a user's table; it is then filled with
``NULL`` of the right type, and the KPIs that read it say "no data".
Value checks (``isin``, ``between``) are the declarative part of the table contract and are
checked by :func:`kpitools.data.contracts.check_values`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

KINDS = ("id", "int", "float", "string", "timestamp", "boolean")


@dataclass(frozen=True)
class Column:
    """One canonical column.

    Parameters
    ----------
    name : str
        Canonical name.
    kind : str
        One of :data:`KINDS`.
    nullable : bool
        Whether NULL is a legitimate value (e.g. ``converted_at`` of an unconverted lead).
    optional : bool
        Whether a user's table may lack the column altogether.
    isin : tuple of str, optional
        Allowed values.
    between : tuple of float, optional
        Inclusive lower and upper bounds.
    description : str
        What the column holds, with its unit.
    """

    name: str
    kind: str
    nullable: bool = False
    optional: bool = False
    isin: tuple[str, ...] | None = None
    between: tuple[float, float] | None = None
    description: str = ""


@dataclass(frozen=True)
class Table:
    """One canonical table: its key, its columns and its time column.

    ``product_line`` says that the table has a ``product_line`` column, so that a product-line
    report keeps only the line's rows. A row whose line is NULL belongs to no line: it counts in
    the brand's report only, unless ``null_line_is_brand_wide`` (campaigns: a campaign without a
    line is run for the whole brand and stays in every line's report). When the column is
    ``optional`` and a source lacks it, the table cannot be filtered: its rows all stay, and
    the KPIs that read it are brand-wide in that source (see
    :meth:`kpitools.data.sources.Database.carries_line`).
    """

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    time_column: str | None = None
    description: str = ""
    product_line: bool = field(default=False)
    #: a NULL product_line means "the whole brand": such rows stay in product-line reports
    #: (otherwise a NULL line is "no line": the row is left out of a product-line report)
    null_line_is_brand_wide: bool = field(default=False)
    #: tables a row's line comes from when the table has no product_line column of its own
    #: (a campaign member is on the line of its campaign, or of its customer for a brand-wide
    #: campaign), see :meth:`kpitools.data.sources.Database.table`
    line_through: tuple[str, ...] = field(default=())

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _c(name, kind, **kw) -> Column:
    return Column(name, kind, **kw)


CHANNELS = ("email", "sms", "print", "phone", "social")

TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "customers",
            ("customer_id",),
            (
                _c("customer_id", "id"),
                _c("brand", "string"),
                _c("product_line", "string", description="line the customer was acquired on"),
                _c("created_at", "timestamp", description="date the customer record was created"),
                _c("acquisition_channel", "string", nullable=True),
                _c("region", "string", nullable=True, optional=True),
                _c("email", "string", nullable=True, optional=True),
                _c("phone", "string", nullable=True, optional=True),
                _c("email_opt_in", "boolean", nullable=True, optional=True),
            ),
            time_column="created_at",
            description="one row per customer",
            product_line=True,
        ),
        Table(
            "orders",
            ("order_id",),
            (
                _c("order_id", "id"),
                _c("customer_id", "id"),
                _c("brand", "string"),
                _c("product_line", "string"),
                _c("ordered_at", "timestamp"),
                _c("revenue", "float", description="net revenue of the order, currency units"),
                _c(
                    "cost",
                    "float",
                    nullable=True,
                    optional=True,
                    description="cost of goods sold, currency units; without it the margin "
                    "KPIs and customer value are not available",
                ),
                _c("channel", "string", nullable=True, optional=True),
            ),
            time_column="ordered_at",
            description="one row per order",
            product_line=True,
        ),
        Table(
            "leads",
            ("lead_id",),
            (
                _c("lead_id", "id"),
                _c("brand", "string"),
                _c("product_line", "string", nullable=True),
                _c("created_at", "timestamp"),
                _c("source", "string", nullable=True),
                _c("campaign_id", "id", nullable=True, optional=True),
                _c("first_response_at", "timestamp", nullable=True),
                _c("converted_at", "timestamp", nullable=True),
                _c("customer_id", "id", nullable=True),
                _c("owner_id", "id", nullable=True, optional=True),
            ),
            time_column="created_at",
            description="one row per prospect (lead)",
            product_line=True,
        ),
        Table(
            "opportunities",
            ("opportunity_id",),
            (
                _c("opportunity_id", "id"),
                _c("brand", "string"),
                _c("product_line", "string", nullable=True),
                _c("customer_id", "id", nullable=True),
                _c("owner_id", "id", nullable=True),
                _c("created_at", "timestamp"),
                _c("closed_at", "timestamp", nullable=True),
                _c("status", "string", isin=("open", "won", "lost")),
                _c("amount", "float", nullable=True, description="deal value, currency units"),
                _c("quote_count", "int", nullable=True, optional=True),
                _c("is_renewal", "boolean", nullable=True, optional=True),
                _c(
                    "renewal_due_at",
                    "timestamp",
                    nullable=True,
                    optional=True,
                    description="for a renewal: the date the contract being renewed ends "
                    "(the renewal or expected close date of CRM exports)",
                ),
            ),
            time_column="created_at",
            description="one row per sales opportunity",
            product_line=True,
        ),
        Table(
            "activities",
            ("activity_id",),
            (
                _c("activity_id", "id"),
                _c("brand", "string"),
                _c("owner_id", "id", nullable=True),
                _c("customer_id", "id", nullable=True),
                _c("lead_id", "id", nullable=True),
                _c("opportunity_id", "id", nullable=True),
                _c("occurred_at", "timestamp"),
                _c("type", "string", isin=("call", "email", "meeting", "sms", "social")),
                _c("direction", "string", isin=("inbound", "outbound")),
                _c("responded", "boolean", nullable=True),
            ),
            time_column="occurred_at",
            description="one row per logged interaction (call, e-mail, meeting, ...)",
        ),
        Table(
            "campaigns",
            ("campaign_id",),
            (
                _c("campaign_id", "id"),
                _c("brand", "string"),
                _c("product_line", "string", nullable=True),
                _c("name", "string"),
                _c("channel", "string", isin=CHANNELS),
                _c("objective", "string", nullable=True, optional=True),
                _c("starts_at", "timestamp"),
                _c("ends_at", "timestamp"),
                _c("fixed_cost", "float", between=(0, 1e12), description="currency units"),
                _c("cost_per_contact", "float", between=(0, 1e9), description="currency units"),
                _c("planned_control_share", "float", between=(0, 1), nullable=True),
            ),
            time_column="starts_at",
            description="one row per campaign (operation); no product line: brand-wide",
            product_line=True,
            null_line_is_brand_wide=True,
        ),
        Table(
            "campaign_members",
            ("campaign_id", "customer_id"),
            (
                _c("campaign_id", "id"),
                _c("customer_id", "id"),
                _c("brand", "string"),
                _c("group", "string", isin=("treatment", "control")),
                _c("sent_at", "timestamp", nullable=True),
                _c("delivered", "boolean", nullable=True),
                _c("opened_at", "timestamp", nullable=True),
                _c("clicked_at", "timestamp", nullable=True),
                _c("unsubscribed_at", "timestamp", nullable=True),
                _c("responded_at", "timestamp", nullable=True),
            ),
            time_column="sent_at",
            description="one row per customer targeted by a campaign, treatment or control",
            line_through=("campaigns", "customers"),
        ),
        Table(
            "cases",
            ("case_id",),
            (
                _c("case_id", "id"),
                _c("brand", "string"),
                _c("customer_id", "id", nullable=True),
                _c(
                    "product_line",
                    "string",
                    nullable=True,
                    optional=True,
                    description="line the case is about (the product, the order); NULL: no one line",
                ),
                _c("channel", "string", nullable=True),
                _c("opened_at", "timestamp"),
                _c("first_response_at", "timestamp", nullable=True),
                _c("resolved_at", "timestamp", nullable=True),
                _c("sla_hours", "float", nullable=True, description="hours"),
                _c("is_complaint", "boolean"),
                _c("contacts_to_resolve", "int", nullable=True),
                _c("handling_cost", "float", nullable=True, description="currency units"),
            ),
            time_column="opened_at",
            description="one row per service case",
            product_line=True,
        ),
        Table(
            "calls",
            ("call_id",),
            (
                _c("call_id", "id"),
                _c("brand", "string"),
                _c("queue", "string", nullable=True),
                _c(
                    "product_line",
                    "string",
                    nullable=True,
                    optional=True,
                    description="line of the queue or of the linked case; NULL: no one line",
                ),
                _c("agent_id", "id", nullable=True),
                _c("case_id", "id", nullable=True),
                _c("offered_at", "timestamp"),
                _c("answered_at", "timestamp", nullable=True, description="NULL = abandoned"),
                _c("ended_at", "timestamp", nullable=True),
                _c("handle_seconds", "float", nullable=True, description="seconds"),
            ),
            time_column="offered_at",
            description="one row per inbound service call",
            product_line=True,
        ),
        Table(
            "surveys",
            ("response_id",),
            (
                _c("response_id", "id"),
                _c("brand", "string"),
                _c("customer_id", "id", nullable=True),
                _c(
                    "product_line",
                    "string",
                    nullable=True,
                    optional=True,
                    description="line the survey asked about; NULL: a brand-wide (relationship) survey",
                ),
                _c("responded_at", "timestamp"),
                _c("nps_score", "int", nullable=True, between=(0, 10)),
                _c("csat_score", "int", nullable=True, between=(1, 5)),
            ),
            time_column="responded_at",
            description="one row per survey answer",
            product_line=True,
        ),
        Table(
            "web_sessions",
            ("session_id",),
            (
                _c("session_id", "id"),
                _c("brand", "string"),
                _c("customer_id", "id", nullable=True),
                _c(
                    "product_line",
                    "string",
                    nullable=True,
                    optional=True,
                    description="line of the pages visited (landing section); NULL: no one line",
                ),
                _c("started_at", "timestamp"),
                _c("page_views", "int"),
                _c("duration_seconds", "float", description="seconds"),
                _c("goal_completed", "boolean"),
            ),
            time_column="started_at",
            description="one row per web visit",
            product_line=True,
        ),
        Table(
            "subscriptions",
            ("customer_id", "list"),
            (
                _c("customer_id", "id"),
                _c("list", "string"),
                _c("brand", "string"),
                _c(
                    "product_line",
                    "string",
                    nullable=True,
                    optional=True,
                    description="line of the mailing list; NULL: a brand-wide list",
                ),
                _c("subscribed_at", "timestamp"),
                _c("unsubscribed_at", "timestamp", nullable=True),
            ),
            time_column="subscribed_at",
            description="one row per customer and mailing list",
            product_line=True,
        ),
        Table(
            "referrals",
            ("referral_id",),
            (
                _c("referral_id", "id"),
                _c("brand", "string"),
                _c("referrer_customer_id", "id"),
                _c("referred_customer_id", "id", nullable=True),
                _c(
                    "product_line",
                    "string",
                    nullable=True,
                    optional=True,
                    description="line the referral is for; NULL: no one line",
                ),
                _c("created_at", "timestamp"),
            ),
            time_column="created_at",
            description="one row per customer referral",
            product_line=True,
        ),
        Table(
            "social_mentions",
            ("mention_id",),
            (
                _c("mention_id", "id"),
                _c("brand", "string", description="the brand whose monitoring found the mention"),
                _c("mentioned_brand", "string", description="own brand or a competitor"),
                _c("is_competitor", "boolean"),
                _c("occurred_at", "timestamp"),
                _c("sentiment", "float", nullable=True, between=(-1, 1)),
                _c("reach", "int", nullable=True),
            ),
            time_column="occurred_at",
            description="one row per social media mention of the brand or a competitor",
        ),
        Table(
            "crm_users",
            ("user_id",),
            (
                _c("user_id", "id"),
                _c("brand", "string"),
                _c("role", "string", nullable=True),
                _c("created_at", "timestamp", nullable=True, optional=True),
                _c("deactivated_at", "timestamp", nullable=True, optional=True),
            ),
            description="one row per CRM user (sales rep, agent, marketer)",
        ),
        Table(
            "crm_logins",
            ("login_id",),
            (
                _c("login_id", "id"),
                _c("user_id", "id"),
                _c("brand", "string"),
                _c("logged_in_at", "timestamp"),
            ),
            time_column="logged_in_at",
            description="one row per CRM login",
        ),
    ]
}
