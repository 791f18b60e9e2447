"""The command line's arguments, in French, with their defaults shown in `--help`."""

from __future__ import annotations

import argparse
from pathlib import Path

from .config import ROOT

EXIT_OK, EXIT_FAULT, EXIT_UNUSABLE, EXIT_USAGE = 0, 1, 2, 3

# argparse's own words (it looks them up through gettext at call time).
_FRENCH = {
    "usage: ": "usage : ",
    "positional arguments": "arguments",
    "options": "options",
    "show this help message and exit": "afficher cette aide et quitter",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "unrecognized arguments: %s": "arguments inconnus : %s",
    "invalid choice: %(value)r (choose from %(choices)s)":
        "choix invalide : %(value)r (parmi %(choices)s)",
    "expected one argument": "une valeur est attendue",
    "invalid %(type)s value: %(value)r": "valeur invalide : %(value)r",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
}
argparse._ = lambda text: _FRENCH.get(text, text)


class _Help(argparse.HelpFormatter):
    """Each option's default in its help, in French, when there is one worth saying."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "%(default)" not in text \
                and action.option_strings:
            text += " (défaut : %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # a usage error has its own exit code (2 is an unusable copy)
        self.print_usage()
        self.exit(EXIT_USAGE, f"{self.prog} : erreur : {message}\n")


def _shard(text: str) -> tuple[int, int]:
    i, _, n = text.partition("/")
    if not (i.isdigit() and n.isdigit() and 1 <= int(i) <= int(n)):
        raise argparse.ArgumentTypeError(f"« {text} » : attendu I/N avec 1 ≤ I ≤ N, par "
                                         "exemple 2/4 (la 2e part sur 4)")
    return int(i), int(n)


def _sub(sub, name: str, help: str) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=help, description=help,
                          formatter_class=_Help)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="grader", description="Correction des TP notebooks du cours.",
                formatter_class=_Help)
    p.add_argument("--course", type=Path, default=ROOT / "course.toml",
                   help="fichier de configuration du cours")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMANDE",
                           parser_class=_Parser)
    g = _sub(sub, "grade", "noter les notebooks (avec les cas cachés là où le cours a ses juges)")
    g.add_argument("tp", nargs="*", help="TP à noter (aucun : tous ceux qui ont un maître)")
    g.add_argument("--from", dest="source", type=Path, default=None,
                   help="dossier des notebooks (aucun : les dossiers des TP ; 'solutions' note "
                        "les maîtres)")
    g.add_argument("--out", default="grades", help="dossier des rapports")
    g.add_argument("--seed", type=int, default=None,
                   help="graine des cas cachés (aucune : tirée au hasard, notée dans grades.json)")
    g.add_argument("--cache", type=Path, default=None,
                   help="dossier de cache : réutiliser la note d'un notebook inchangé")
    c = _sub(sub, "check", "auto-vérification rapide : exemples publics seulement")
    c.add_argument("tp", nargs=1, help="TP à vérifier")
    c.add_argument("--from", dest="source", type=Path, default=None,
                   help="dossier des notebooks (aucun : les dossiers des TP)")
    s = _sub(sub, "summary", "moyenne de plusieurs grades.json (dernier job du pipeline)")
    s.add_argument("files", nargs="*", help="fichiers grades.json")
    r = _sub(sub, "release", "régénérer les notebooks de départ et les tables publiques")
    r.add_argument("--tp", action="append", default=None,
                   help="ce TP seulement (répétable ; aucun : tous les TP)")
    r.add_argument("--to", type=Path, default=None,
                   help="créer aussi le dépôt git modèle des étudiant·e·s dans ce dossier")

    def instructor(name: str, help: str, tp: bool = True, db: bool = True):
        q = _sub(sub, name, help)
        if tp:
            q.add_argument("--tp", required=True, help="le TP")
        q.add_argument("--work", type=Path, default=None,
                       help="dossier de travail des enseignants (aucun : var/ du cours)")
        if db:
            q.add_argument("--db-url", default=None,
                           help="carnet de notes nbgrader (aucun : sqlite:///<work>/gradebook.db"
                                " ; ou postgresql://...)")
        return q

    instructor("collect", "récupérer les notebooks à l'échéance (git)", db=False).add_argument(
        "--roster", type=Path, required=True, help="CSV id,name,git_url")
    a = instructor("autograde", "correction officielle des copies collectées")
    a.add_argument("--jobs", type=int, default=1, help="copies corrigées en parallèle")
    a.add_argument("--shard", type=_shard, default=None, metavar="I/N",
                   help="corriger seulement la part I de N de la classe (un job CI par part, "
                        "carnet PostgreSQL partagé ; aucune : toute la classe)")
    a.add_argument("--allow-unsandboxed", action="store_true",
                   help="corriger même sans bac à sable (déconseillé ; noté pour chaque copie)")
    instructor("export", "notes par TP (tableur français et import Moodle)", tp=False
               ).add_argument("--out", type=Path, default=None,
                              help="fichier CSV (aucun : <work>/notes_tp.csv)")
    f = instructor("final", "notes du module : ½ examen + ½ moyenne(TP + projet)", tp=False)
    f.add_argument("--exam", type=Path, required=True, help="CSV id;examen (ou id,examen)")
    f.add_argument("--out", type=Path, default=None,
                   help="fichier CSV (aucun : <work>/notes_module.csv)")
    instructor("report", "rapport de classe d'un TP (HTML)")
    fg = instructor("formgrader", "noter les réponses écrites dans le navigateur (formgrader de "
                    "nbgrader, après autograde)", tp=False)
    fg.add_argument("--port", type=int, default=None, help="port du serveur (aucun : 8888 ou "
                    "le suivant libre)")
    fg.add_argument("--no-browser", action="store_true", help="ne pas ouvrir le navigateur")
    instructor("retours", "rendre à chaque étudiant·e son retour officiel (note, retour HTML, "
               "commentaires) sur la branche « retours » de son dépôt").add_argument(
        "--roster", type=Path, required=True, help="CSV id,name,git_url")
    instructor("similarite", "copies qui se ressemblent, après collect (rapport HTML et CSV ; "
               "ne change aucune note)", db=False)
    return p
