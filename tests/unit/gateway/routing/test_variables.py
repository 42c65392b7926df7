"""The variable rule: an allow-list of names and functions, values without expressions."""

import pytest

from gateway.exceptions import ForbiddenVariable
from gateway.routing.spec import operations
from gateway.routing.variables import check_name, check_value, check_variables

ALLOWED = ["CONF_MUTED", "_INHERITED", "__X1", "CALLERID(name)", "callerid(num)", "CHANNEL(language)",
           "CHANNEL(rtp,dest)", "PJSIP_HEADER(add,X-Foo)", "CONNECTEDLINE(all)"]  # fmt: skip
BYPASSES = [
    "GLOBAL(APP_7771)", "global(APP_7771)", "Global(APP_7771)", " GLOBAL(APP_7771)", "_GLOBAL(APP_1)",
    "IMPORT(n1-1.2,SECRET)", "SHARED(X,n1-1.2)", "DB(family/key)", "DB_DELETE(family/key)",
    "DB_KEYS(family)", "ODBC_SQL(x)", "SHELL(id)", "SYSTEM(id)", "FILE(/etc/passwd)", "CURL(http://x)",
    "STAT(e,/etc)", "ENV(PATH)", "EVAL(x)", "CHANNEL(hangup_handler_push)", "CHANNEL(after_bridge_goto)",
    "CALLERID(${SHELL(id)})", "CALLERID(name)x", "APP_7771", "app_7771", "__APP_7771", "ARISCALE_APP",
    "ASTLOGDIR", "ENTITYID", "X Y", "X(", "",
]  # fmt: skip


@pytest.mark.parametrize("name", ALLOWED)
def test_allowed_names(name: str) -> None:
    check_name(name)


@pytest.mark.parametrize("name", BYPASSES)
def test_bypasses_are_refused(name: str) -> None:
    with pytest.raises(ForbiddenVariable):
        check_name(name)


def test_values_may_not_hold_expressions() -> None:
    check_value("X", "plain $ text {}")
    for value in ("${SHELL(id)}", "a$[1+1]", "${GLOBAL(APP_1)}"):
        with pytest.raises(ForbiddenVariable):
            check_value("X", value)


def test_every_place_asterisk_takes_a_variable_from_is_checked() -> None:
    by_name = {(o.resource, o.nickname): o for o in operations()}
    with pytest.raises(ForbiddenVariable):
        check_variables(by_name[("channels", "getChannelVar")], {"variable": "IMPORT(x,Y)"})
    with pytest.raises(ForbiddenVariable):
        check_variables(by_name[("bridges", "setBridgeVar")], {"variable": "X", "value": "${ENV(HOME)}"})
    with pytest.raises(ForbiddenVariable):
        check_variables(by_name[("channels", "originate")], {"variables": {"GLOBAL(APP_1)": "b"}})
    check_variables(by_name[("channels", "originate")], {"variables": {"CALLERID(name)": "Bob"}})
