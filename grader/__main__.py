"""Command line: `python -m grader {grade,check,release} ...` (thin layer over the library)."""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

EXIT_OK, EXIT_FAULT, EXIT_UNUSABLE = 0, 1, 2


def _submission(tp_name: str, source: Path | None) -> Path:
    """Where a TP's notebook is: <source>/<tp>.ipynb, else <source>/<tp>/<tp>.ipynb."""
    from .config import ROOT

    if source is None:
        return ROOT / tp_name / f"{tp_name}.ipynb"
    nested = source / tp_name / f"{tp_name}.ipynb"
    return nested if nested.exists() else source / f"{tp_name}.ipynb"


def _gradable(course, names: list[str]):
    from .config import MASTERS_DIR

    tps = [course.tp(n) for n in names] if names else [
        tp for tp in course.tps.values() if (MASTERS_DIR / tp.notebook_name).exists()]
    for tp in tps:
        if not (MASTERS_DIR / tp.notebook_name).exists():
            raise SystemExit(f"{tp.name} : pas encore de notebook maître dans solutions/, "
                             "rien à corriger")
    return tps


def cmd_grade(args, hidden: bool = True) -> int:
    from . import report
    from .config import MASTERS_DIR, ROOT, load_course
    from .grading import grade_tp
    from .sandbox import namespaces_unavailable

    course = load_course()
    tps = _gradable(course, args.tp)
    reason = namespaces_unavailable()
    if reason:
        print(f"Attention : bac à sable réduit ({reason}) — réseau non coupé, limites de "
              "ressources seulement.")
    out = Path(args.out).resolve() if getattr(args, "out", None) else None
    results = []
    for tp in tps:
        print(f"Correction de {tp.name} …", flush=True)
        results.append(grade_tp(
            tp, _submission(tp.name, args.source), MASTERS_DIR / tp.notebook_name,
            ROOT / tp.name, course.limits, hidden=hidden, seed=args.seed, feedback=out is not None,
            protect=(out,) if out else ()))
    if out:
        report.write_all(results, out)
    print(report.console(results))
    if out:
        print(f"Rapports : {out}/grades.json, junit.xml, feedback_<tp>.html")
    unusable = [r for r in results if r.problem]
    for r in unusable:
        print(f"Erreur : {r.tp.name} — {report.one_line(r.problem)} (TP noté 0).",
              file=sys.stderr)
    return EXIT_UNUSABLE if unusable else EXIT_OK


def cmd_release(args) -> int:
    from .config import MASTERS_DIR, ROOT, load_course
    from .notebooks import starter_text

    for tp in load_course().tps.values():
        master = MASTERS_DIR / tp.notebook_name
        if master.exists():
            target = ROOT / tp.name / tp.notebook_name
            target.write_text(starter_text(master), encoding="utf-8")
            print(f"{target.relative_to(ROOT)} régénéré depuis solutions/{master.name}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="grader", description="Correction des TP notebooks.")
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="noter les notebooks (tests cachés compris)")
    g.add_argument("tp", nargs="*", help="TP à noter (défaut : tous ceux qui ont un maître)")
    g.add_argument("--from", dest="source", type=Path, default=None,
                   help="dossier des notebooks (défaut : les dossiers des TP ; "
                        "'solutions' note les maîtres)")
    g.add_argument("--out", default="grades", help="dossier des rapports (défaut : grades/)")
    g.add_argument("--seed", type=int, default=None,
                   help="graine des cas cachés (défaut : tirée au hasard, notée dans grades.json)")
    c = sub.add_parser("check", help="auto-vérification rapide (tests publics seulement)")
    c.add_argument("tp", nargs=1)
    c.add_argument("--from", dest="source", type=Path, default=None)
    sub.add_parser("release", help="régénérer les notebooks de départ depuis solutions/")
    args = parser.parse_args(argv)
    try:
        if args.command == "grade":
            return cmd_grade(args)
        if args.command == "check":
            args.seed, args.out = None, None
            return cmd_grade(args, hidden=False)
        return cmd_release(args)
    except (KeyError, SystemExit) as exc:
        if isinstance(exc, SystemExit) and not isinstance(exc.code, str):
            raise
        print(f"Erreur : {exc.args[0] if isinstance(exc, KeyError) else exc.code}",
              file=sys.stderr)
        return EXIT_FAULT
    except Exception:
        traceback.print_exc()
        print("Erreur interne du correcteur (ce n'est pas votre copie) : signalez-la aux "
              "enseignants avec le journal ci-dessus.", file=sys.stderr)
        return EXIT_FAULT


if __name__ == "__main__":
    sys.exit(main())
