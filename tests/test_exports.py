"""Exam grades in from French or English spreadsheets: read exactly, or refused with the line."""

import pytest

from grader.config import CourseError
from grader.exports import read_exam


@pytest.mark.parametrize("text,expected", [
    ("id,examen\nalice,14\nbob,11.5\n", {"alice": 14.0, "bob": 11.5}),
    ("id;examen\nalice;14\nbob;11,5\n", {"alice": 14.0, "bob": 11.5}),
    ('id,examen\nalice,14\nbob,"11,5"\n', {"alice": 14.0, "bob": 11.5}),
    ("\ufeffid;nom;examen\nalice;Alice;14\nbob;Bob;\n", {"alice": 14.0, "bob": None}),
    ("id\texam\nalice\t9,25\n", {"alice": 9.25}),
], ids=["comma", "french", "quoted-comma", "bom-empty", "tab"])
def test_exam_files_are_read_exactly(tmp_path, text, expected):
    path = tmp_path / "examen.csv"
    path.write_text(text, encoding="utf-8")
    assert read_exam(path) == expected


@pytest.mark.parametrize("text,words", [
    ("id,examen\nalice,14\nbob,11,5\n", "ligne 3 : 3 champs au lieu de 2 : une virgule décimale"),
    ("id;examen\nalice;quatorze\n", "ligne 2 : note d'examen 'quatorze' illisible"),
    ("id;examen\nalice;24\n", "illisible"),
    ("id;examen\nalice;-3\n", "illisible"),
    ("id;examen\nalice;12\nalice;13\n", "deux fois"),
    ("nom;note_finale\nalice;12\n", "colonnes attendues id et examen"),
], ids=["ambiguous-comma", "text", "above-20", "negative", "twice", "columns"])
def test_ambiguous_or_wrong_rows_are_refused_with_their_line(tmp_path, text, words):
    path = tmp_path / "examen.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CourseError, match=words):
        read_exam(path)
