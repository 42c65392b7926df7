from gateway.events.instances import gateway_of


def test_an_instance_names_its_gateway() -> None:
    assert gateway_of("host:1234/9f3c") == "host:1234"
    assert gateway_of("gw/with/slash/9f3c") == "gw/with/slash"
