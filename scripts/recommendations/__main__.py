"""`python -m scripts.recommendations all|generate|build|train --stack S | --local`: the
recommendations' post-deploy loads, step by step or all at once (then `python -m scripts.serving`
syncs and exports them). `promote --stack S --model M --version V`: the registry's `production`
alias (and the published model file) moved to version V, a promotion by hand or a rollback."""

from __future__ import annotations

from collections.abc import Callable

import typer

from scripts.core.errors import LoadError
from scripts.core.guard import FIRST_FILL
from scripts.core.runner import IN_SERVICE, LOCAL, STACK, Step, run_steps
from scripts.recommendations import loads, registry
from scripts.recommendations.target import RecommendationsTarget

app = typer.Typer(add_completion=False, help=__doc__)
CUSTOMERS = typer.Option(None, help="override recommendations.scale.customers")
SEED = typer.Option(None, help="override recommendations.scale.seed")
STEPS: dict[str, Step] = {
    "generate": ("generate", loads.generate),
    "build": ("build", loads.build),
    "train": ("train", loads.train),
}


def overrides(customers: int | None, seed: int | None, first_fill: bool) -> Callable[[RecommendationsTarget], None]:
    """The target at the scale asked for (a bad override is refused naming the field)."""

    def adjust(t: RecommendationsTarget) -> None:
        t.first_fill = first_fill
        changes = {k: v for k, v in (("customers", customers), ("seed", seed)) if v is not None}
        if changes:
            try:
                t.scale = t.scale.updated(**changes)
            except ValueError as e:
                raise LoadError(f"invalid scale override: {e}") from None

    return adjust


def generating(*names: str) -> Callable[..., None]:
    """A command whose steps start with `generate`: it takes the scale overrides and --first-fill."""

    def command(
        stack: str = STACK,
        local: bool = LOCAL,
        customers: int | None = CUSTOMERS,
        seed: int | None = SEED,
        first_fill: bool = FIRST_FILL,
    ) -> None:
        steps = [STEPS[n] for n in names]
        adjust = overrides(customers, seed, first_fill)
        run_steps(loads, stack, local, steps, synthetic="generate", first_fill=first_fill, adjust=adjust)

    return command


app.command("all", help="generate → build → train (refused on prod: use the single steps, or --first-fill).")(
    generating("generate", "build", "train")
)
app.command("generate", help="Synthetic base tables (never into prod, but for --first-fill of an empty stack).")(
    generating("generate")
)


@app.command("build")
def build_cmd(stack: str = STACK, local: bool = LOCAL) -> None:
    """CUSTOMER_360, the feature views and USER_PRODUCT_RECOMMENDATIONS, now."""
    run_steps(loads, stack, local, [STEPS["build"]])


@app.command("train")
def train_cmd(
    stack: str = STACK,
    local: bool = LOCAL,
    in_service: bool = IN_SERVICE,
    if_older_than_days: int | None = typer.Option(
        None, min=1, help="train only when the published model is this many days old or older (or there is none)"
    ),
) -> None:
    """The propensity and ranking models, scored and published."""
    if if_older_than_days is None:
        step: Step = STEPS["train"]
    else:
        step = ("train", lambda t: loads.train_if_due(t, if_older_than_days))
    run_steps(loads, stack, local, [step], in_service=in_service)


@app.command("promote")
def promote_cmd(
    stack: str = STACK,
    local: bool = LOCAL,
    model: str = typer.Option(..., help=f"which model: {' or '.join(registry.MODELS)}"),
    version: str = typer.Option(..., help="the registry version to serve, e.g. RUN_20261202_061500"),
) -> None:
    """Move `production` to an existing version and publish its file (promote or roll back)."""

    def step(t: RecommendationsTarget) -> dict:
        with t.connect_snowflake() as conn:
            return registry.promote(conn.cursor(), t, model, version)

    if local:
        typer.echo("promote: the stand-ins have no model registry; run it with --stack", err=True)
        raise typer.Exit(1)
    run_steps(loads, stack, local, [("promote", step)])


if __name__ == "__main__":
    app()
