from gateway.routing.listing import merge_application, merge_lists


def test_channels_from_every_node_are_concatenated() -> None:
    assert merge_lists("/channels", [[{"id": "n1-1"}], [{"id": "n2-1"}]]) == [{"id": "n1-1"}, {"id": "n2-1"}]


def test_node_wide_items_appear_once_with_merged_lists() -> None:
    merged = merge_lists(
        "/endpoints",
        [
            [{"technology": "PJSIP", "resource": "cluster", "channel_ids": ["n1-1"]}],
            [{"technology": "PJSIP", "resource": "cluster", "channel_ids": ["n2-1"]}],
        ],
    )
    assert merged == [{"technology": "PJSIP", "resource": "cluster", "channel_ids": ["n1-1", "n2-1"]}]


def test_an_application_is_the_union_of_its_views() -> None:
    merged = merge_application(
        [
            {"name": "conf", "channel_ids": ["n1-1"], "bridge_ids": ["conf"]},
            {"name": "conf", "channel_ids": ["n2-1"], "bridge_ids": []},
        ]
    )
    assert merged == {"name": "conf", "channel_ids": ["n1-1", "n2-1"], "bridge_ids": ["conf"]}
