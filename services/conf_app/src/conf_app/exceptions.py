from ariscale_common.errors import NotFound


class ConferenceNotFound(NotFound):
    error_id = "no-such-conference"


class ParticipantNotFound(NotFound):
    error_id = "no-such-participant"
