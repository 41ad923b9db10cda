import csv
import io
from decimal import Decimal

import pytest

from scoring.batch import (OUTPUT_COLUMNS, BatchInputError, generate_customers, rate_csv, rate_rows,
                           write_example_csv)
from scoring.errors import RatingFileError
from scoring.rating import rate_applicant


def example_csv(count: int) -> str:
    buffer = io.StringIO()
    write_example_csv(buffer, count, seed=7)
    return buffer.getvalue()


def test_generated_customers_are_all_valid_and_the_same_for_the_same_seed(agri_product, hq_files):
    customers = list(generate_customers(500, seed=3))
    assert customers == list(generate_customers(500, seed=3))
    for customer in customers:
        rate_applicant(customer, agri_product, hq_files)


def test_generated_id_numbers_carry_a_valid_check_digit():
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    for customer in generate_customers(50):
        number = customer["id_number"]
        assert len(number) == 18
        assert "10X98765432"[sum(int(d) * w for d, w in zip(number, weights)) % 11] == number[-1]


def test_every_row_of_a_clean_file_is_rated_with_its_line_number(agri_product, hq_files):
    out = io.StringIO()
    summary = rate_csv(io.StringIO(example_csv(200)), out, agri_product, hq_files)
    assert (summary.rows, summary.rated, summary.failed) == (200, 200, 0)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == OUTPUT_COLUMNS
    assert [row["line"] for row in rows[:3]] == ["2", "3", "4"]
    assert all(row["grade"] in "ABCDE" and row["error"] == "" for row in rows)
    assert all(Decimal(row["credit_line"]) >= 0 and Decimal(row["annual_rate"]) > 0 for row in rows)


def test_bad_rows_are_reported_with_line_and_reason_and_the_rest_are_rated(agri_product, hq_files):
    customers = list(generate_customers(5, seed=7))
    customers[1]["age"] = "seventeen"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(customers[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(customers)
    lines = buffer.getvalue().splitlines()
    lines.insert(4, "330102199001011234,truncated")  # line 5: the row stops after the name
    out = io.StringIO()
    summary = rate_csv(io.StringIO("\n".join(lines) + "\n"), out, agri_product, hq_files)
    assert (summary.rows, summary.rated, summary.failed) == (6, 4, 2)
    assert [(e.line, e.field) for e in summary.errors] == [(3, "age"), (5, "age")]
    assert "not a whole number" in summary.errors[0].reason and "required" in summary.errors[1].reason
    results = {row["line"]: row for row in csv.DictReader(io.StringIO(out.getvalue()))}
    assert results["3"]["error"].startswith("age:") and results["3"]["score"] == ""
    assert results["4"]["error"] == "" and results["4"]["grade"]
    assert results["6"]["error"] == "" and results["7"]["grade"]


def test_a_row_with_too_many_fields_is_a_bad_row(agri_product, hq_files):
    text = "age,monthly_income\n40,5000\n41,5000,extra\n"
    summary = rate_csv(io.StringIO(text), io.StringIO(), agri_product, hq_files)
    assert [str(error) for error in summary.errors] == ["line 3: more fields than the header has columns"]


def test_progress_is_reported_as_the_batch_goes(agri_product, hq_files):
    seen = []
    rate_csv(io.StringIO(example_csv(250)), io.StringIO(), agri_product, hq_files,
             progress=seen.append, progress_every=100)
    assert seen == [100, 200, 250]


def test_a_file_without_the_required_columns_is_refused_before_rating(agri_product, hq_files):
    with pytest.raises(BatchInputError, match="monthly_income"):
        rate_csv(io.StringIO("id_number,age\n1,40\n"), io.StringIO(), agri_product, hq_files)


def test_a_broken_rating_file_stops_the_batch_instead_of_failing_every_row(agri_product, hq_files):
    broken = {**hq_files, "grade.dmn": "<definitions/>"}
    with pytest.raises(RatingFileError):
        rate_csv(io.StringIO(example_csv(3)), io.StringIO(), agri_product, broken)


def test_a_list_of_applicants_is_rated_row_by_row(agri_product, hq_files, farm_household):
    results = list(rate_rows([farm_household, {**farm_household, "age": 12}], agri_product, hq_files))
    assert results[0][2].grade == "B" and results[0][3] is None
    assert results[1][2] is None and results[1][3].field == "age" and results[1][0] == 2
