"""Gateway errors: ARI-shaped where ARI has the same error, typed with a stable id otherwise."""

from ariscale_common.errors import ApiError, Forbidden, NotFound, ServiceUnavailable


class ResourceNotFound(NotFound):
    """The same 404 Asterisk gives for an unknown id (also for another app's resource)."""

    error_id = "resource-not-found"


class NotYourApp(Forbidden):
    error_id = "not-your-app"


class AdminOnly(Forbidden):
    error_id = "admin-only"


class NoNode(ServiceUnavailable):
    error_id = "no-node-available"


class IdInUse(ApiError):
    status = 409
    error_id = "id-in-use"


class LinkFailed(ServiceUnavailable):
    """A member on another node could not be joined to the bridge (the link leg failed)."""

    error_id = "link-failed"


class BridgeMoving(ServiceUnavailable):
    """The bridge's home node died and failover is re-homing it: ask again in a moment."""

    error_id = "bridge-moving"


class ForbiddenVariable(Forbidden):
    """A variable name or value that would reach outside the app's own resources."""

    error_id = "forbidden-variable"


class InvalidRecordingName(ApiError):
    error_id = "invalid-recording-name"


class NotYourResource(Forbidden):
    """A request naming another app's resource (or a shared one) as an argument."""

    error_id = "not-your-resource"


class NodeTimedOut(ApiError):
    """The owner node did not answer in time: the request's outcome is unknown, the resource stays."""

    status = 504
    error_id = "node-timeout"


class UnknownApplication(ApiError):
    """A request naming, as its target, an app the cluster does not have (or keeps to itself)."""

    status = 422
    error_id = "unknown-application"


class ResumeExpired(ApiError):
    """``after`` is older than the events kept for the app (``ARISCALE_EVENT_REPLAY_SIZE``)."""

    status = 410
    error_id = "resume-expired"


class SequenceUnknown(ApiError):
    """``after`` was never given to the app (ahead of its count, e.g. Redis lost its data)."""

    status = 400
    error_id = "sequence-unknown"
