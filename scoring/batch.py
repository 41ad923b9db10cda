"""Batch rating: a CSV of customers in, a CSV of scores, grades, lines and prices out.

Input columns are the applicant fields (see scoring.applicant; income_sources ";"-separated,
booleans true/false). Output columns are OUTPUT_COLUMNS; `line` is the input's line number. A bad
row gets its reason in `error` (and in the summary) and the batch goes on. A broken rating file or
product is not a bad row: it stops the batch at once, before thousands of identical errors.
"""
from __future__ import annotations

import csv
import random
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Iterable, Iterator, Mapping, TextIO

from scoring.errors import ApplicantDataError, DecisionFailed, ScoringError
from scoring.rating import RatingResult, rate_applicant

INPUT_COLUMNS = ("id_number", "name", "customer_type", "age", "monthly_income", "years_at_address", "land_mu",
                 "livestock_head", "family_members", "labourers", "income_sources", "existing_debt",
                 "credit_village", "credit_household")
REQUIRED_COLUMNS = ("age", "monthly_income")
OUTPUT_COLUMNS = ("line", "id_number", "name", "score", "statistical_score", "expert_score", "grade",
                  "credit_line", "annual_rate", "pricing_tier", "reason_codes", "error")
Progress = Callable[[int], None]


class BatchInputError(ScoringError):
    code = "invalid_batch_input"


@dataclass(frozen=True)
class RowError:
    line: int
    field: str | None
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: " + (f"{self.field}: " if self.field else "") + self.reason


@dataclass
class BatchSummary:
    rows: int = 0
    rated: int = 0
    errors: list[RowError] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        return len(self.errors)

    @property
    def per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def rate_one(line: int, row: Mapping[str, Any], product: Mapping[str, Any],
             rating_files: Mapping[str, str]) -> tuple[RatingResult | None, RowError | None]:
    """Rate one row; a data problem becomes a RowError, configuration problems propagate."""
    if None in row:
        return None, RowError(line, None, "more fields than the header has columns")
    try:
        return rate_applicant(row, product, rating_files), None
    except (ApplicantDataError, DecisionFailed) as error:
        return None, RowError(line, error.field, error.message)


def rate_rows(rows: Iterable[Mapping[str, Any]], product: Mapping[str, Any], rating_files: Mapping[str, str],
              *, first_line: int = 1) -> Iterator[tuple[int, Mapping[str, Any], RatingResult | None, RowError | None]]:
    """Rate a list of applicant dicts (the API's batch endpoint); numbered from `first_line`."""
    for line, row in enumerate(rows, start=first_line):
        result, problem = rate_one(line, row, product, rating_files)
        yield line, row, result, problem


def _output_row(line: int, row: Mapping[str, Any], result: RatingResult | None, problem: RowError | None) -> list:
    if result is None:
        reason = (f"{problem.field}: " if problem.field else "") + problem.reason
        return [line, row.get("id_number") or "", row.get("name") or "", "", "", "", "", "", "", "", "", reason]
    return [line, row.get("id_number") or "", row.get("name") or "", result.score, result.statistical_score,
            "" if result.expert_score is None else result.expert_score, result.grade, result.credit_line,
            result.annual_rate, result.pricing_tier, ";".join(r.code for r in result.reason_codes), ""]


def rate_csv(source: TextIO, destination: TextIO, product: Mapping[str, Any], rating_files: Mapping[str, str],
             *, progress: Progress | None = None, progress_every: int = 1000) -> BatchSummary:
    started = time.perf_counter()
    reader = csv.DictReader(source)
    columns = reader.fieldnames or []
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise BatchInputError(f"the input has no column {', '.join(missing)} (columns: {', '.join(columns)})",
                              field="header")
    writer = csv.writer(destination, lineterminator="\n")
    writer.writerow(OUTPUT_COLUMNS)
    summary = BatchSummary()
    for row in reader:
        line = reader.line_num
        result, problem = rate_one(line, row, product, rating_files)
        summary.rows += 1
        if problem is None:
            summary.rated += 1
        else:
            summary.errors.append(problem)
        writer.writerow(_output_row(line, row, result, problem))
        if progress is not None and summary.rows % progress_every == 0:
            progress(summary.rows)
    if progress is not None and summary.rows % progress_every:
        progress(summary.rows)
    summary.seconds = time.perf_counter() - started
    return summary


# --- example customers -------------------------------------------------------------------------

_REGIONS = ("330102", "330521", "331082", "360124", "420117", "511322", "530111")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
_GIVEN = ("建国", "秀英", "志强", "桂兰", "海涛", "春梅", "国华", "玉珍", "小龙", "丽娟", "德明", "翠花")


def _id_number(rng: random.Random, birth: date) -> str:
    body = f"{rng.choice(_REGIONS)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return body + _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS)) % 11]


def generate_customers(count: int, *, seed: int = 20261122, today: date = date(2026, 11, 22)
                       ) -> Iterator[dict[str, str]]:
    """`count` plausible customers as CSV-ready string dicts, the same for the same seed."""
    rng = random.Random(seed)
    for _ in range(count):
        age = rng.randint(20, 68)
        birth = date(today.year - age, rng.randint(1, 12), rng.randint(1, 28))
        customer_type = rng.choices(("farm_household", "individual_business", "salaried"), (70, 20, 10))[0]
        family = rng.randint(1, 8)
        income = rng.choice((1500, 2500, 3500, 5000, 7000, 9000, 12000, 18000)) + rng.randrange(0, 1000)
        sources = rng.sample(("crop", "livestock", "wage", "business", "fishery", "forestry"), rng.randint(0, 3))
        yield {
            "id_number": _id_number(rng, birth),
            "name": rng.choice(_SURNAMES) + rng.choice(_GIVEN),
            "customer_type": customer_type,
            "age": str(age),
            "monthly_income": f"{income}.00",
            "years_at_address": "" if rng.random() < 0.05 else str(rng.randint(0, 40)),
            "land_mu": f"{rng.choice((0, 0.5, 2, 4, 8, 12, 20, 40, 80)) + rng.randrange(0, 10) / 10:.1f}",
            "livestock_head": str(rng.choice((0, 0, 2, 5, 12, 30))),
            "family_members": str(family),
            "labourers": str(rng.randint(0, family)),
            "income_sources": ";".join(sources),
            "existing_debt": f"{rng.choice((0, 0, 5000, 20000, 60000, 150000))}.00",
            "credit_village": "true" if rng.random() < 0.4 else "false",
            "credit_household": "true" if rng.random() < 0.3 else "false",
        }


def write_example_csv(destination: TextIO, count: int, *, seed: int = 20261122) -> int:
    writer = csv.DictWriter(destination, fieldnames=INPUT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    written = 0
    for customer in generate_customers(count, seed=seed):
        writer.writerow(customer)
        written += 1
    return written
