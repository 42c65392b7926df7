"""Request and response bodies of the registry API, named by role."""

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"  # any app name in a path (older apps may have capitals)
# A new app's name: lower case, starting with a letter or digit (no look-alikes of another
# app differing only in case, no "-" or "_" alone).
NEW_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
RESERVED_NAME_PREFIX = "ariscale"  # the internal link app is ariscale-link
EXTENSION_PATTERN = r"^[0-9*#+]{1,32}$"

AppName = Annotated[
    str,
    Field(
        pattern=NEW_NAME_PATTERN,
        description="Lower-case letters, digits, '-', '_'; a letter or digit first; 1-64 characters.",
        examples=["conf"],
    ),
]
Extension = Annotated[
    str,
    Field(
        pattern=EXTENSION_PATTERN, description="A dialed number: digits, '*', '#', '+'.", examples=["8000"]
    ),
]


def _distinct(extensions: list[str]) -> list[str]:
    repeated = sorted({e for e in extensions if extensions.count(e) > 1})
    if repeated:
        raise ValueError(f"extension listed more than once: {', '.join(repeated)}")
    return extensions


Extensions = Annotated[list[Extension], AfterValidator(_distinct)]


def is_valid_name(name: str) -> bool:
    return re.fullmatch(NAME_PATTERN, name) is not None


class AppCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: AppName
    extensions: Extensions = []
    description: str = Field(default="", max_length=1000)


class AppUpdate(BaseModel):
    """Only the fields present change; ``null`` is refused (omit a field to keep it)."""

    model_config = ConfigDict(extra="forbid")

    extensions: Extensions | None = None
    description: str | None = Field(default=None, max_length=1000)
    enabled: bool | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> "AppUpdate":
        nulls = sorted(f for f in self.model_fields_set if getattr(self, f) is None)
        if nulls:
            raise ValueError(f"null is not a value for {', '.join(nulls)}: omit the field to keep it")
        return self


class Credentials(BaseModel):
    """The app's ARI login at the gateway. The password is shown only in this response."""

    username: str
    password: str


class AppPublic(BaseModel):
    name: str
    extensions: list[str]
    description: str
    enabled: bool
    created_at: datetime
    updated_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _utc(cls, data: Any) -> Any:
        # SQLite hands timestamps back without a zone; they were written in UTC.
        if isinstance(data, dict):
            for key in ("created_at", "updated_at"):
                value = data.get(key)
                if isinstance(value, datetime) and value.tzinfo is None:
                    data[key] = value.replace(tzinfo=UTC)
        return data


class AppCreated(AppPublic):
    credentials: Credentials


class AppsPublic(BaseModel):
    data: list[AppPublic]
    count: int


class AppNodeState(BaseModel):
    """Whether one node's Asterisk has the app subscribed (``null``: its ARI did not answer)."""

    node_id: str
    subscribed: bool | None
    error: str | None = None


class AppDetail(AppPublic):
    # One entry per node in Consul; null when Consul did not answer.
    nodes: list[AppNodeState] | None
    # Instances of the app connected to the gateways now (0: nobody; its calls get hung up);
    # null when Redis did not answer.
    consumers: int | None = None


NodeHealth = Literal["passing", "warning", "critical"]


class NodePublic(BaseModel):
    id: str
    health: NodeHealth
    drained: bool
    ari_url: str | None
    sip_address: str | None
    asterisk_version: str | None
    # From the node's own ARI; null when it did not answer.
    apps: list[str] | None
    channels: int | None
    bridges: int | None


class NodesPublic(BaseModel):
    data: list[NodePublic]
    count: int


class MemberView(BaseModel):
    """One caller in a conference (an app's bridge), on the node their call is on."""

    channel_id: str
    node: str
    caller: str
    app: str | None


class LinkLegView(BaseModel):
    """The SIP call carrying a bridge to one of its member nodes."""

    node: str  # the member node it reaches
    home_leg: str | None  # its end on the bridge's home node
    remote_leg: str | None  # its end on the member node


class ConferenceView(BaseModel):
    """An app's bridge with its members, wherever they are."""

    id: str
    app: str | None
    home: str  # the node holding the bridge itself
    nodes: list[str]  # every node with members
    members: list[MemberView]
    link_legs: list[LinkLegView]


class NodeView(BaseModel):
    id: str
    health: NodeHealth
    drained: bool
    channels: int | None
    bridges: int | None


class AppView(BaseModel):
    name: str
    enabled: bool
    extensions: list[str]
    consumers: int | None  # connected websockets; null when Redis did not answer
    calls: int  # the app's channels in Stasis, on every node


class Series(BaseModel):
    """One chart line: ``[unix time, value]`` points, from Prometheus."""

    label: str
    points: list[tuple[float, float]]


class DashboardSnapshot(BaseModel):
    at: float
    nodes: list[NodeView]
    apps: list[AppView]
    conferences: list[ConferenceView]
    charts: dict[str, list[Series]]  # chart name -> lines; empty when Prometheus is not known
