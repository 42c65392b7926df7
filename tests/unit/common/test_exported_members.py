import ariscale_common


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in dir(ariscale_common) if not name.startswith("_")}
    modules = {n for n in public if type(getattr(ariscale_common, n)).__name__ == "module"}
    assert set(ariscale_common.__all__) == public - modules
