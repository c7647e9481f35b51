"""The cost model: monthly costs, break-even and total cost of ownership.

Pure arithmetic over a workload's plain values.  Its results are *computed
facts* (the ``ip:ComputedProperty`` terms of kb/ontology.ttl): the cost rules
test them like stated facts, and each one keeps its formula and the inputs it
was computed from so the justification graph can show how it was reached.

The model, in one place (README, "Cost model"):

* monthly cloud cost = cloud price per hour × utilized hours + monthly cloud
  bill + tokens ÷ 1,000,000 × API price per million tokens (the parts given);
* monthly in-house running cost = running cost per hour × utilized hours +
  monthly running cost + staff cost per month (staff is optional);
* monthly saving = monthly cloud cost − monthly in-house running cost;
* break-even = hardware ÷ monthly saving months, the point where cumulative
  in-house cost (hardware + running) falls below cumulative cloud cost; when
  the saving is zero or negative it is never reached;
* break-even in utilized hours = break-even months × utilized hours per month,
  or, with hourly prices only, hardware ÷ (cloud price per hour − in-house
  running cost per hour) — the form of published on-premise vs cloud analyses;
* totals over the planning horizon: the hardware is bought at the start of
  every amortization period that begins inside the horizon (no resale value).

Defaults (amortization period, planning horizon) come from the policy's
parameters (``rules/cost.yaml``), never from this module.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from infra_policy.engine.policy.rules_ast import Value
from infra_policy.engine.stages.inputs import LARGEST_NUMBER, SMALLEST_NUMBER

# policy parameter → the input it gives a default for
DEFAULT_PARAMETERS = {
    "default_amortization_years": "amortizationYears",
    "default_planning_horizon_months": "planningHorizonMonths",
}

# The inputs whose presence asks for a cost analysis (period settings alone do not).
COST_INPUTS = (
    "cloudCostPerHourUSD",
    "utilizedHoursPerMonth",
    "cloudCostPerMonthUSD",
    "tokensPerMonth",
    "apiPricePerMillionTokensUSD",
    "inHouseHardwareUSD",
    "inHouseRunCostPerHourUSD",
    "inHouseRunCostPerMonthUSD",
    "inHouseStaffCostPerMonthUSD",
)

# Every stated fact the cost model reads: its inputs, the period settings and the capital budget.
MODEL_INPUTS = frozenset((*COST_INPUTS, *DEFAULT_PARAMETERS.values(), "capitalBudgetUSD"))

_CLOUD_OPTIONS = (
    ("cloudCostPerMonthUSD",),
    ("cloudCostPerHourUSD", "utilizedHoursPerMonth"),
    ("tokensPerMonth", "apiPricePerMillionTokensUSD"),
)
_RUN_OPTIONS = (
    ("inHouseRunCostPerMonthUSD",),
    ("inHouseRunCostPerHourUSD", "utilizedHoursPerMonth"),
)
_CLOUD_NEED = (
    "the cloud side of the cost model: ip:cloudCostPerMonthUSD, or ip:cloudCostPerHourUSD with "
    "ip:utilizedHoursPerMonth, or ip:tokensPerMonth with ip:apiPricePerMillionTokensUSD"
)
_RUN_NEED = (
    "the in-house running cost of the cost model: ip:inHouseRunCostPerMonthUSD, or "
    "ip:inHouseRunCostPerHourUSD with ip:utilizedHoursPerMonth"
)
# Stored precision: four decimals, and at least six significant digits for small numbers. The
# formulas show the stored numbers, so each one reproduces from the numbers it shows. The rules
# compare the stored numbers, and the rule engine compares no float below 0.0001 or from 10^15
# (engine/stages/inputs.py): smaller figures are stored as 0, larger ones as whole numbers.
_DIGITS = 4
_SIGNIFICANT = 6
_MAX_DIGITS = 12  # a bound for showing numbers that were not computed here


@dataclass(frozen=True)
class ComputedValue:
    """One computed fact with how it was computed."""

    name: str  # the ip:ComputedProperty, e.g. "breakEvenMonths"
    value: float | bool
    formula: str  # readable: "breakEvenMonths = inHouseHardwareUSD ÷ monthlySavingUSD = 250,000 ÷ 9,000"
    inputs: tuple[str, ...]  # stated facts it was computed from
    computed_from: tuple[str, ...] = ()  # earlier computed facts it was computed from
    parameters: tuple[tuple[str, float], ...] = ()  # policy defaults it used


@dataclass(frozen=True)
class MissingInput:
    """An input the cost model needs for a conclusion, with what it is needed for."""

    fact: str
    needed_for: str


@dataclass(frozen=True)
class CostAnalysis:
    status: str  # "not-given" (no cost input) | "incomplete" | "complete"
    values: tuple[ComputedValue, ...] = ()  # in computation order (inputs before their users)
    missing: tuple[MissingInput, ...] = ()
    assumptions: tuple[str, ...] = ()

    def facts(self) -> dict[str, Value]:
        """The computed facts the rules see."""
        return {v.name: v.value for v in self.values}

    def get(self, name: str) -> ComputedValue | None:
        return next((v for v in self.values if v.name == name), None)

    def stated_inputs(self, name: str) -> tuple[str, ...]:
        """The stated facts behind a computed fact, through earlier computed facts."""
        found: set[str] = set()
        pending = [name]
        while pending:
            value = self.get(pending.pop())
            if value is not None:
                found.update(value.inputs)
                pending.extend(value.computed_from)
        return tuple(sorted(found))


def _decimals(value: float) -> int:
    """Four decimals, or more for small numbers so that six significant digits remain."""
    if value == 0 or not math.isfinite(value):
        return _DIGITS
    return min(_MAX_DIGITS, max(_DIGITS, _SIGNIFICANT - 1 - math.floor(math.log10(abs(value)))))


def number_text(value: float, digits: int | None = None) -> str:
    """A number as the formulas show it: thousands separated, as precise as it is stored."""
    text = f"{value:,.{_decimals(value) if digits is None else digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _round(value: float) -> float | int:
    if abs(value) >= LARGEST_NUMBER:
        return round(value)
    rounded = round(value, _decimals(value))
    if abs(rounded) < SMALLEST_NUMBER:
        return 0.0  # also no negative zero in the output
    return rounded + 0.0  # no negative zero in the output


class _Model:
    def __init__(self, values: Mapping[str, Value], parameters: Mapping[str, object]) -> None:
        self.given = {
            name: float(value)
            for name, value in values.items()
            if isinstance(value, (int, float)) and not isinstance(value, bool)
        }
        self.parameters = parameters
        self.results: dict[str, ComputedValue] = {}
        self.missing: dict[str, str] = {}
        self.assumptions: list[str] = []

    def has(self, *names: str) -> bool:
        return all(n in self.given or n in self.results for n in names)

    def value(self, name: str) -> float:
        if name in self.results:
            return float(self.results[name].value)
        return self.given[name]

    def add(self, name: str, value: float | bool, symbolic: str, numeric: str, *used: str, parameters=()) -> None:
        shown = value if isinstance(value, bool) else _round(value)
        result = ("true" if shown else "false") if isinstance(shown, bool) else number_text(shown)
        formula = f"{name} = {symbolic}"
        if numeric not in ("", symbolic, result):
            formula += f" = {numeric}"
        formula += f" → {result}" if isinstance(shown, bool) else f" = {result}"
        self.results[name] = ComputedValue(
            name=name,
            value=shown,
            formula=formula,
            inputs=tuple(sorted(u for u in used if u not in self.results)),
            computed_from=tuple(sorted(u for u in used if u in self.results)),
            parameters=tuple(parameters),
        )

    def need(self, fact: str, why: str) -> None:
        self.missing.setdefault(fact, why)

    def setting(self, name: str) -> tuple[float | None, tuple[tuple[str, float], ...]]:
        """A period setting: the stated value, else the policy default, else missing."""
        if name in self.given:
            return self.given[name], ()
        for parameter, target in DEFAULT_PARAMETERS.items():
            if target == name and parameter in self.parameters:
                value = float(self.parameters[parameter])
                note = f"ip:{name} was not given: the policy default {number_text(value)} is used ({parameter})."
                if note not in self.assumptions:
                    self.assumptions.append(note)
                return value, ((parameter, value),)
        return None, ()

    def side(self, options, need: str) -> list[tuple[str, ...]] | None:
        """The complete options of one side, or None (and the missing inputs noted)."""
        complete = [o for o in options if all(n in self.given for n in o)]
        partial = [o for o in options if any(n in self.given for n in o) and o not in complete]
        for option in partial:
            for name in option:
                if name not in self.given:
                    self.need(name, need)
        if partial:
            return None
        if not complete:
            self.need(options[0][0], need)
            return None
        return complete

    def parts(self, name: str, chosen: list[tuple[str, ...]], extra: tuple[str, ...] = ()) -> None:
        terms, numbers, total, used = [], [], 0.0, []
        for option in [*chosen, *((e,) for e in extra)]:
            if len(option) == 1:
                terms.append(option[0])
                numbers.append(number_text(self.given[option[0]]))
                total += self.given[option[0]]
            elif option[0] == "tokensPerMonth":
                terms.append(f"{option[0]} ÷ 1,000,000 × {option[1]}")
                numbers.append(
                    f"{number_text(self.given[option[0]])} ÷ 1,000,000 × {number_text(self.given[option[1]])}"
                )
                total += self.given[option[0]] / 1_000_000 * self.given[option[1]]
            else:
                terms.append(f"{option[0]} × {option[1]}")
                numbers.append(f"{number_text(self.given[option[0]])} × {number_text(self.given[option[1]])}")
                total += self.given[option[0]] * self.given[option[1]]
            used.extend(option)
        self.add(name, total, " + ".join(terms), " + ".join(numbers), *sorted(set(used)))

    def run(self) -> None:
        cloud = self.side(_CLOUD_OPTIONS, _CLOUD_NEED)
        if cloud is not None:
            self.parts("monthlyCloudCostUSD", cloud)
        running = self.side(_RUN_OPTIONS, _RUN_NEED)
        if running is not None:
            staff = ("inHouseStaffCostPerMonthUSD",) if "inHouseStaffCostPerMonthUSD" in self.given else ()
            if not staff:
                self.assumptions.append(
                    "The in-house running cost leaves staff out: ip:inHouseStaffCostPerMonthUSD was not given."
                )
            self.parts("monthlyInHouseRunCostUSD", running, staff)
        if "inHouseHardwareUSD" not in self.given:
            self.need("inHouseHardwareUSD", "the break-even point and the in-house total cost of the cost model")
        if "inHouseHardwareUSD" in self.given and "capitalBudgetUSD" in self.given:
            hardware, budget = self.given["inHouseHardwareUSD"], self.given["capitalBudgetUSD"]
            self.add(
                "capitalExceedsBudget",
                hardware > budget,
                "inHouseHardwareUSD > capitalBudgetUSD",
                f"{number_text(hardware)} > {number_text(budget)}",
                "inHouseHardwareUSD",
                "capitalBudgetUSD",
            )
            if hardware > 0 or budget > 0:
                # hardware that costs nothing is covered by any budget: as far as the rules can compare
                coverage = min(budget / hardware, LARGEST_NUMBER) if hardware > 0 else LARGEST_NUMBER
                self.add(
                    "capitalCoverageOfHardware",
                    coverage,
                    "capitalBudgetUSD ÷ inHouseHardwareUSD",
                    f"{number_text(budget)} ÷ {number_text(hardware)}",
                    "capitalBudgetUSD",
                    "inHouseHardwareUSD",
                )
        self.break_even()
        self.totals()

    def break_even(self) -> None:
        if self.has("monthlyCloudCostUSD", "monthlyInHouseRunCostUSD"):
            cloud, running = self.value("monthlyCloudCostUSD"), self.value("monthlyInHouseRunCostUSD")
            self.add(
                "monthlySavingUSD",
                cloud - running,
                "monthlyCloudCostUSD − monthlyInHouseRunCostUSD",
                f"{number_text(cloud)} − {number_text(running)}",
                "monthlyCloudCostUSD",
                "monthlyInHouseRunCostUSD",
            )
        hourly_only = self.has("cloudCostPerHourUSD", "inHouseRunCostPerHourUSD", "inHouseHardwareUSD") and not any(
            n in self.given
            for n in (
                "cloudCostPerMonthUSD",
                "tokensPerMonth",
                "inHouseRunCostPerMonthUSD",
                "inHouseStaffCostPerMonthUSD",
            )
        )
        if self.has("monthlySavingUSD", "inHouseHardwareUSD"):
            saving = self.value("monthlySavingUSD")
            hardware = self.value("inHouseHardwareUSD")
            # a saving too small to ever repay the hardware (the quotient overflows) is never, too
            months = hardware / saving if saving > 0 else math.inf
            self.add(
                "breakEvenNever",
                not math.isfinite(months),
                "monthlySavingUSD ≤ 0",
                f"{number_text(saving)} ≤ 0",
                "monthlySavingUSD",
            )
            if math.isfinite(months):
                self.add(
                    "breakEvenMonths",
                    months,
                    "inHouseHardwareUSD ÷ monthlySavingUSD",
                    f"{number_text(hardware)} ÷ {number_text(saving)}",
                    "inHouseHardwareUSD",
                    "monthlySavingUSD",
                )
        # When the months say never (no utilized hours, say), the hours are never reached either.
        never_by_month = "breakEvenNever" in self.results and self.results["breakEvenNever"].value is True
        if hourly_only and not never_by_month:
            hardware = self.value("inHouseHardwareUSD")
            cloud, running = self.value("cloudCostPerHourUSD"), self.value("inHouseRunCostPerHourUSD")
            hours = hardware / (cloud - running) if cloud > running else math.inf
            if "breakEvenNever" not in self.results:
                self.add(
                    "breakEvenNever",
                    not math.isfinite(hours),
                    "cloudCostPerHourUSD ≤ inHouseRunCostPerHourUSD",
                    f"{number_text(cloud)} ≤ {number_text(running)}",
                    "cloudCostPerHourUSD",
                    "inHouseRunCostPerHourUSD",
                )
            if math.isfinite(hours):
                self.add(
                    "breakEvenHours",
                    hours,
                    "inHouseHardwareUSD ÷ (cloudCostPerHourUSD − inHouseRunCostPerHourUSD)",
                    f"{number_text(hardware)} ÷ ({number_text(cloud)} − {number_text(running)})",
                    "inHouseHardwareUSD",
                    "cloudCostPerHourUSD",
                    "inHouseRunCostPerHourUSD",
                )
        elif self.has("breakEvenMonths", "utilizedHoursPerMonth"):
            months, hours = self.value("breakEvenMonths"), self.value("utilizedHoursPerMonth")
            self.add(
                "breakEvenHours",
                months * hours,
                "breakEvenMonths × utilizedHoursPerMonth",
                f"{number_text(months)} × {number_text(hours)}",
                "breakEvenMonths",
                "utilizedHoursPerMonth",
            )
        if "breakEvenMonths" in self.results:
            years, defaults = self.setting("amortizationYears")
            if years is None:
                self.need("amortizationYears", "comparing the break-even point with the hardware's life")
            else:
                months = self.value("breakEvenMonths")
                self.add(
                    "breakEvenShareOfAmortization",
                    months / (years * 12),
                    "breakEvenMonths ÷ (amortizationYears × 12)",
                    f"{number_text(months)} ÷ ({number_text(years)} × 12)",
                    "breakEvenMonths",
                    *(() if defaults else ("amortizationYears",)),
                    parameters=defaults,
                )

    def totals(self) -> None:
        horizon, horizon_defaults = self.setting("planningHorizonMonths")
        if horizon is None:
            if self.has("monthlyCloudCostUSD") or self.has("monthlyInHouseRunCostUSD"):
                self.need("planningHorizonMonths", "the total cost of each side")
            return
        horizon_used = () if horizon_defaults else ("planningHorizonMonths",)
        if self.has("monthlyCloudCostUSD"):
            cloud = self.value("monthlyCloudCostUSD")
            self.add(
                "cloudTotalCostUSD",
                cloud * horizon,
                "monthlyCloudCostUSD × planningHorizonMonths",
                f"{number_text(cloud)} × {number_text(horizon)}",
                "monthlyCloudCostUSD",
                *horizon_used,
                parameters=horizon_defaults,
            )
        if not self.has("monthlyInHouseRunCostUSD", "inHouseHardwareUSD"):
            return
        years, year_defaults = self.setting("amortizationYears")
        if years is None:
            self.need("amortizationYears", "the in-house total cost (how often the hardware is bought)")
            return
        purchases = math.ceil(horizon / (years * 12))
        hardware, running = self.value("inHouseHardwareUSD"), self.value("monthlyInHouseRunCostUSD")
        self.add(
            "inHouseTotalCostUSD",
            hardware * purchases + running * horizon,
            "inHouseHardwareUSD × ⌈planningHorizonMonths ÷ (amortizationYears × 12)⌉"
            " + monthlyInHouseRunCostUSD × planningHorizonMonths",
            f"{number_text(hardware)} × ⌈{number_text(horizon)} ÷ ({number_text(years)} × 12)⌉"
            f" + {number_text(running)} × {number_text(horizon)}",
            "inHouseHardwareUSD",
            "monthlyInHouseRunCostUSD",
            *horizon_used,
            *(() if year_defaults else ("amortizationYears",)),
            parameters=horizon_defaults + year_defaults,
        )
        if self.has("cloudTotalCostUSD") and self.value("inHouseTotalCostUSD") > 0:
            cloud_total, in_house_total = self.value("cloudTotalCostUSD"), self.value("inHouseTotalCostUSD")
            self.add(
                "cloudToInHouseCostRatio",
                cloud_total / in_house_total,
                "cloudTotalCostUSD ÷ inHouseTotalCostUSD",
                f"{number_text(cloud_total)} ÷ {number_text(in_house_total)}",
                "cloudTotalCostUSD",
                "inHouseTotalCostUSD",
            )


def analyse_cost(values: Mapping[str, Value], parameters: Mapping[str, object]) -> CostAnalysis:
    """The cost analysis of one workload from its plain values and the policy's parameters."""
    if not any(name in values for name in COST_INPUTS):
        return CostAnalysis(status="not-given")
    model = _Model(values, parameters)
    model.run()
    missing = tuple(MissingInput(fact, why) for fact, why in sorted(model.missing.items()))
    return CostAnalysis(
        status="incomplete" if missing else "complete",
        values=tuple(model.results.values()),
        missing=missing,
        assumptions=tuple(model.assumptions),
    )


# Everything analyse_cost reads: the key of the memo below.
_READS = (*COST_INPUTS, "amortizationYears", "planningHorizonMonths", "capitalBudgetUSD")


def computed_facts(values: Mapping[str, Value], parameters: Mapping[str, object]) -> dict[str, Value]:
    """Only the computed facts of :func:`analyse_cost` (what the rules see).

    Exploring "what would change it" re-runs the policy for many candidate
    values, most of which leave the cost inputs unchanged; the results are
    memoized on the inputs the model reads, which keeps that exploration as fast
    as without the cost model.
    """
    key = tuple((name, values[name]) for name in _READS if name in values)
    return dict(_memo(key, tuple(sorted(parameters.items()))))


@lru_cache(maxsize=4096)
def _memo(key: tuple, parameters: tuple) -> tuple:
    return tuple(analyse_cost(dict(key), dict(parameters)).facts().items())


def parameter_problems(parameters: Mapping[str, object]) -> list[str]:
    """What is wrong with the cost defaults of a policy (empty when they are fine)."""
    problems = []
    for name in DEFAULT_PARAMETERS:
        if name not in parameters:
            continue
        value = parameters[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            problems.append(f"parameters.{name} must be a number > 0, not {value!r}.")
    return problems


__all__ = [
    "ComputedValue",
    "CostAnalysis",
    "MissingInput",
    "analyse_cost",
    "computed_facts",
    "number_text",
    "parameter_problems",
]
