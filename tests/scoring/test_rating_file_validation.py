import pytest

from scoring.errors import RatingFileError
from scoring.validation import VALIDATORS, validate_rating_file
from tests.scoring.conftest import rating_files_for


@pytest.mark.parametrize("branch", [None, "BR002"])
def test_every_shipped_rating_file_passes_validation(branch):
    files = rating_files_for(branch)
    for name in VALIDATORS:
        validate_rating_file(name, files[name])


def test_a_pricing_table_without_the_village_discount_decision_is_refused():
    text = rating_files_for(None)["pricing.dmn"].replace('id="village_discount"', 'id="discount_typo"')
    with pytest.raises(RatingFileError, match="village_discount"):
        validate_rating_file("pricing.dmn", text)


def test_a_grade_table_whose_output_is_misnamed_is_refused():
    text = rating_files_for(None)["grade.dmn"].replace('name="grade" typeRef', 'name="rating" typeRef')
    with pytest.raises(RatingFileError, match="lacks output"):
        validate_rating_file("grade.dmn", text)


@pytest.mark.parametrize("text", ['{"single_customer": {"max_amount": "lots"}}',
                                  '{"dimension_limits": [{"dimensions": {"region": "*"}, "max_share": 0.3}]}',
                                  "[]"])
def test_limits_that_are_not_decimal_strings_in_an_object_are_refused(text):
    with pytest.raises(RatingFileError):
        validate_rating_file("limits.json", text)


def test_an_unknown_file_name_is_refused():
    with pytest.raises(RatingFileError):
        validate_rating_file("notes.txt", "")
