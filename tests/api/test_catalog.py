"""The ids /v1/models lists are unambiguous: a model's own id where nothing else could be
read as it, else `<provider>/<model>`; a request finds its model by the listed id first."""

from chat.api.catalog import api_model_find, api_models_listed
from chat.services.providers import OfferedModel


def offered(provider: str, model: str) -> OfferedModel:
    return OfferedModel(provider, provider or "default", model)


def test_a_model_one_provider_offers_is_listed_by_its_own_id():
    listed = api_models_listed([offered("", "gpt-x"), offered("acme", "acme-large")], [])
    assert [m.id for m in listed] == ["gpt-x", "acme-large"]


def test_a_model_two_providers_offer_is_listed_once_per_provider_qualified():
    listed = api_models_listed([offered("", "gpt-x"), offered("acme", "gpt-x")], [])
    assert [m.id for m in listed] == ["default/gpt-x", "acme/gpt-x"]


def test_a_name_that_spells_another_provider_s_model_is_qualified():
    # zed offers "a/x"; provider a offers "x": "a/x" could mean either.
    listed = api_models_listed([offered("zed", "a/x"), offered("a", "x")], [])
    assert [m.id for m in listed] == ["zed/a/x", "x"]
    assert api_model_find(listed, "a/x").offered.provider == "a"
    assert api_model_find(listed, "zed/a/x").offered.provider == "zed"


def test_a_key_s_models_narrow_the_list_in_either_form():
    choices = [offered("", "gpt-x"), offered("acme", "acme-large"), offered("", "other")]
    listed = api_models_listed(choices, ["gpt-x", "acme/acme-large"])
    assert [m.id for m in listed] == ["gpt-x", "acme-large"]
