STRATEGIES = ("PACK", "SPREAD", "STRICT_PACK", "STRICT_SPREAD")


class PlacementGroup:
    def __init__(self, bundles, strategy):
        self.bundle_specs = bundles
        self.strategy = strategy

    def ready(self):
        import ray

        return ray._done(self)


def placement_group(bundles, strategy="PACK", name="", lifetime=None):
    # The checks Ray makes before it asks the GCS for the group, with its messages.
    if not isinstance(bundles, list) or not bundles:
        raise ValueError("The placement group `bundles` argument cannot contain an empty list")
    for bundle in bundles:
        if not isinstance(bundle, dict) or not all(isinstance(k, str) for k in bundle) or not all(isinstance(v, (int, float)) for v in bundle.values()):
            raise ValueError("Bundles must be a non-empty list of resource dictionaries.")
        if len(bundle) == 0 or all(value == 0 for value in bundle.values()):
            raise ValueError(f"Bundles cannot be an empty dictionary or resources with only 0 values. Bundles: {bundles}")
    if strategy not in STRATEGIES:
        raise ValueError(f"Invalid placement group strategy {strategy}.")
    return PlacementGroup(bundles, strategy)
