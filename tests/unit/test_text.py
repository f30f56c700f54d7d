from graphql_api.domain.text import cache_key, normalise, text_hash


def test_normalisation_folds_whitespace_and_composes_unicode():
    assert normalise("  Caf\u0065\u0301 \n\t is  great ") == "Caf\u00e9 is great"


def test_normalisation_keeps_case_and_punctuation_that_engines_read():
    assert normalise("GREAT!!!") == "GREAT!!!"


def test_cache_key_depends_on_requested_language_and_engine():
    digest = text_hash("good")
    keys = {
        cache_key(digest, None, "vader-3.3.2"),
        cache_key(digest, "en", "vader-3.3.2"),
        cache_key(digest, "en", "model-1"),
    }
    assert len(keys) == 3
    assert cache_key(digest, None, "e") == cache_key(digest, None, "e")
