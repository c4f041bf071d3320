"""The classes come from the served model's card; the table of known classes fills the gaps."""

from __future__ import annotations

import json
import os
import shutil

from classifier import labels, predictor


def test_the_committed_card_gives_the_known_table_and_the_footwear_group():
    assert labels.model_labels(predictor.DEFAULT_MODEL_PATH) == labels.LABELS
    assert labels.model_groups(predictor.DEFAULT_MODEL_PATH) == (frozenset({5, 7, 9}),)


def test_card_fields_win_and_missing_ones_come_from_the_table():
    card = {
        "classes": [
            {"index": 0, "name": "T-shirt/top"},  # all from the table
            {"index": 1, "name": "Trouser", "slug": ""},  # the card says: no category
            {"index": 2, "name": "Hat", "slug": "gorros", "name_es": "Gorros"},
            {"index": 3, "name": "Scarf"},  # unknown to the table
        ]
    }
    tee, trouser, hat, scarf = labels.labels_from_card(card)
    assert tee == labels.Label(0, "T-shirt/top", "Camisetas y tops", "T-shirts & tops", "camisetas")
    assert trouser.slug == "" and trouser.name_es == "Pantalones"
    assert (hat.name_es, hat.name_en, hat.slug) == ("Gorros", "Hats", "gorros")
    assert (scarf.name_es, scarf.name_en, scarf.slug) == ("Scarf", "Scarf", "")


def test_a_card_without_classes_means_the_table(tmp_path):
    assert labels.labels_from_card({}) == labels.LABELS
    assert labels.model_labels(tmp_path / "model.tflite") == labels.LABELS  # no card at all


def test_a_replaced_card_is_read_again(tmp_path):
    model = tmp_path / "model.tflite"
    shutil.copy(predictor.DEFAULT_MODEL_PATH, model)
    card = tmp_path / "model_card.json"
    card.write_text(json.dumps({"classes": [{"index": 0, "name": "Bag"}]}))
    assert [label.name for label in labels.model_labels(model)] == ["Bag"]
    assert labels.model_groups(model) == ()
    classes = [{"index": 0, "name": "Coat"}, {"index": 1, "name": "Hat"}]
    card.write_text(json.dumps({"classes": classes, "calibration": {"groups": [[0, 1]]}}))
    os.utime(card, ns=(1, 1))  # a different modification time, whatever the clock's resolution
    assert [label.name for label in labels.model_labels(model)] == ["Coat", "Hat"]
    assert labels.model_groups(model) == (frozenset({0, 1}),)


def test_a_half_written_card_gives_the_table_until_it_is_whole(tmp_path):
    model = tmp_path / "model.tflite"
    (tmp_path / "model_card.json").write_text('{"classes": [{"index": 0, "na')
    assert labels.model_labels(model) == labels.LABELS and labels.model_groups(model) == ()


def test_a_label_of_an_earlier_model_is_still_named():
    served = labels.labels_from_card({"classes": [{"index": 0, "name": "Coat"}]})
    assert labels.find_label(served, 0).name == "Coat"
    assert labels.find_label(served, 8).name == "Bag"  # from the table
    assert labels.find_label(served, 99) is None
    assert labels.label_for(served, 99).name == "99"
