"""Demo matching: the nightly build once, over what the demo buyers did (and the cold start)."""

from .build import insights_build


def seed(report) -> None:
    built = insights_build()
    report.note(f"insights: built for {built['buyers']} buyers over {built['products']} products "
                f"({built['interactions']} interactions)")
