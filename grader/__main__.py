"""Command line (a thin layer over the library): `python -m grader COMMAND`.

Students and CI: `grade` (the notebooks, with the hidden cases where the course has its judges),
`check` (quick: public cases only), `summary` (the mean of several jobs' grades.json).
Instructors: `release` (starters and public tables; `--to` the students' template repository),
`collect`, `autograde`, `formgrader`, `export`, `final`, `report`, `retours` (the grade of
record, see README), `similarite`.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timezone
import traceback
from pathlib import Path

from .cli import EXIT_FAULT, EXIT_OK, EXIT_UNUSABLE, EXIT_USAGE


def _submission(course, tp, source: Path | None) -> Path:
    """Where a TP's notebook is: <source>/<tp>/<tp>.ipynb, else <source>/<tp>.ipynb
    (default source: the course's TP folders)."""
    base = source if source is not None else course.root
    nested = base / tp.name / tp.notebook_name
    return nested if nested.exists() or source is None else base / tp.notebook_name


def _gradable(course, names: list[str]):
    """The TPs to grade: those named (that are published), else every published TP."""
    tps = [course.tp(n) for n in names] if names else list(course.tps.values())
    for tp in tps:
        if names and not course.master(tp).exists():
            print(f"{tp.name} : TP pas encore publié, rien à corriger.")
    return [tp for tp in tps if course.master(tp).exists()]


def cmd_grade(args, hidden: bool = True) -> int:
    from . import cache, report
    from .config import load_course
    from .grading import grade_tp
    from .results import Status
    from .sandbox import isolation_problem

    course = load_course(args.course)
    tps = _gradable(course, args.tp)
    if not tps:
        return EXIT_OK
    reason = isolation_problem()
    if reason:
        print(f"Attention : bac à sable réduit ({reason}) — le noyau voit les fichiers du "
              "système et le réseau ; limites de ressources et utilisateur sans privilèges "
              "seulement.")
    out = Path(args.out).resolve() if getattr(args, "out", None) else None
    results = []
    store = args.cache.resolve() if getattr(args, "cache", None) else None

    def decided(r):  # the grade first; the feedback page is rendered after
        print(report.tp_block(r))
        if len(tps) == 1:
            print("\n" + report.grade_line(r.grade), flush=True)

    for tp in tps:
        submission = _submission(course, tp, args.source)
        k = cache.key(course, tp, submission) if store else None
        if k and (hit := cache.load(store, tp, k)):
            print(f"{tp.name} : notebook inchangé depuis une correction précédente, note réutilisée.")
            results.append(hit)
            decided(hit)
            continue
        print(f"Correction de {tp.name} …", flush=True)
        started = time.monotonic()

        def progress(cell, started=started):  # our own lines: status and points, no student text
            mark = "✔" if cell.status == Status.PASSED else "✘"
            print(f"  {mark} {cell.grade_id} : {cell.points:g}/{cell.max_points:g} "
                  f"({cell.status}, {time.monotonic() - started:.0f} s)", flush=True)

        result = grade_tp(course, tp, submission, hidden=hidden, seed=args.seed,
                          feedback=out is not None, progress=progress, decided=decided)
        if result.problem:  # unusable: graded without running, nothing was printed yet
            decided(result)
        if k:
            cache.store(store, k, result)
        results.append(result)
    if out:
        written = report.write_all(results, out)
        print("Rapports : " + ", ".join(str(p) for p in written))
    if len(results) > 1:
        counted = report.counted(results, datetime.now(timezone.utc))
        print("\nMoyenne pondérée (coefficients de course.toml) des TP commencés ou échus")
        print(report.mean_line(results, counted))
    unusable = [r for r in results if r.problem]
    for r in unusable:
        print(f"Erreur : {r.tp.name} — {report.one_line(r.problem)} (TP noté 0).",
              file=sys.stderr)
    faults = [(r.tp.name, c) for r in results for c in r.faults]
    for tp_name, c in faults:  # the judge's own error, for whoever maintains the grader
        print(f"Erreur du correcteur : {tp_name} / {c.grade_id} : {c.fault}", file=sys.stderr)
    if faults:
        return EXIT_FAULT
    return EXIT_UNUSABLE if unusable else EXIT_OK


def cmd_summary(args) -> int:
    """The table and grade line of several jobs' grades.json (the pipeline's last job)."""
    import json

    from . import report
    from .config import load_course

    course = load_course(args.course)
    results = []
    for path in args.files:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        for name, tp_data in data["tps"].items():
            results.append(report.tp_from_json(course.tp(name), tp_data))
    if not results:
        print("Aucun TP corrigé.")
        return EXIT_OK
    counted = report.counted(results, datetime.now(timezone.utc))
    print("\n".join(report.tp_block(r) for r in results))
    print("\nMoyenne pondérée (coefficients de course.toml) des TP commencés ou échus")
    print(report.mean_line(results, counted))
    return EXIT_OK


def _progress_bar(name: str, things: str, total: int | None = None):
    """Done / total, elapsed and remaining, on stderr: each student's line goes to stdout
    through the bar's `write`."""
    from tqdm import tqdm

    return tqdm(total=total, desc=name, file=sys.stderr, smoothing=0,
                bar_format=f"{{desc}} {{n_fmt}}/{{total_fmt}} {things} [{{elapsed}} écoulé, "
                           "{remaining} restant]")


def cmd_instructor(args) -> int:
    """collect, autograde, export, final, report, retours: the grade of record."""
    from . import exports, official
    from .class_report import class_report
    from .collect import collect
    from .config import load_course

    course = load_course(args.course)
    work = (args.work or course.work_dir).resolve()
    if args.command == "collect":
        tp = course.tp(args.tp)
        with _progress_bar(tp.name, "dépôts") as bar:
            def progress(s, total):
                bar.total = total
                state = s.problem or f"commit {s.commit[:8]} du {s.committed_at}" + (
                    f", {s.late_days} jour(s) de retard (−{s.penalty:g})" if s.late_days else "")
                bar.write(f"  {s.student:<16} {state}", file=sys.stdout)
                bar.update()

            subs = collect(course, tp, args.roster, work, progress)
        print(f"{sum(1 for s in subs if s.notebook)}/{len(subs)} notebooks collectés pour {tp.name}")
        return EXIT_OK
    if args.command == "autograde":
        from . import report

        tp = course.tp(args.tp)
        todo = official.shard_of(official.load_manifest(work, tp), args.shard)
        total = sum(1 for s in todo if s.notebook)
        part = f" (part {args.shard[0]}/{args.shard[1]} : {len(todo)} étudiant·e·s)" if args.shard else ""
        print(f"Correction officielle de {tp.name}{part}", flush=True)
        bar = _progress_bar(tp.name, "copies", total)

        def progress(student, r):
            state = report.one_line(r.problem) if r.problem else (
                f"{len(r.faults)} erreur(s) du correcteur" if r.faults else "")
            bar.write(f"  [{bar.n + 1}/{total}] {student:<16} {r.grade:5.2f}/20  "
                      f"({r.seconds:.0f} s)" + (f"  {state}" if state else ""), file=sys.stdout)
            bar.update()

        with bar:
            results = official.autograde(course, tp, work, args.db_url, args.jobs,
                                         allow_unsandboxed=args.allow_unsandboxed,
                                         progress=progress, shard=args.shard)
        faults = sum(len(r.faults) for r in results.values())
        print(f"{len(results)} copies de {tp.name} corrigées ; retours : "
              f"{work / 'feedback' / tp.name}")
        if faults:
            print(f"Attention : {faults} erreur(s) du correcteur (0 point en attendant) : "
                  f"voir {work / 'results' / tp.name}, puis relancez autograde.", file=sys.stderr)
            return EXIT_FAULT
        return EXIT_OK
    if args.command == "export":
        files = exports.export(course, work, args.db_url, args.out or work / "notes_tp.csv")
        print("Notes par TP (tableur français ; import Moodle) : "
              + ", ".join(str(f) for f in files))
        return EXIT_OK
    if args.command == "final":
        out = args.out or work / "notes_module.csv"
        rows, warnings, files = exports.final(course, work, args.db_url, args.exam, out)
        for w in warnings:
            print(f"Attention : {w}")
        print(f"Notes du module ({len(rows)} étudiant·e·s) : " + ", ".join(str(f) for f in files))
        return EXIT_OK
    if args.command == "similarite":
        from .similarity import similarity_report, summary, threshold_for

        html, table, pairs = similarity_report(course, course.tp(args.tp), work)
        print(summary(html, table, pairs, threshold_for(course)))
        return EXIT_OK  # a report: it never changes a grade
    if args.command == "formgrader":
        from .formgrader import serve

        db_url = args.db_url or exports.default_db_url(work)
        with exports.gradebook(db_url):  # there is something to grade (else: the fix)
            pass
        return serve(work, db_url, args.port, open_browser=not args.no_browser)
    if args.command == "retours":
        from .returns import deliver

        sent = deliver(course, course.tp(args.tp), args.roster, work, args.db_url)
        for d in sent:
            print(f"  {d.student:<16} {d.state}")
        failed = [d.student for d in sent if not d.ok]
        print(f"Retours de {args.tp} : {sum(d.state == 'envoyé' for d in sent)} envoyé(s), "
              f"{sum(d.state == 'inchangé' for d in sent)} inchangé(s), {len(failed)} non "
              f"remis (branche « retours » de chaque dépôt)")
        if failed:
            print(f"Attention : retours non remis à {', '.join(failed)} (voir ci-dessus) ; "
                  "relancer la commande est sans risque.", file=sys.stderr)
            return EXIT_USAGE
        return EXIT_OK
    out = class_report(course, course.tp(args.tp), work, args.db_url)
    print(f"Rapport de classe : {out}")
    return EXIT_OK


def cmd_release(args) -> int:
    from .config import load_course
    from .figures import write_figures
    from .release import build_template, write_public_tables, write_starters

    course = load_course(args.course)
    for name in write_starters(course, args.tp):
        print(f"{name}/{name}.ipynb régénéré depuis solutions/{name}.ipynb")
    for name in write_public_tables(course, args.tp):
        print(f"{name} : table publique régénérée (juge + maître)")
    for tp in ([course.tp(n) for n in args.tp] if args.tp else course.tps.values()):
        if course.master(tp).exists():
            drawn = write_figures(course, tp)
            if drawn:
                print(f"{tp.name} : {len(drawn)} figures de référence redessinées (maître exécuté)")
    if args.to:
        build_template(course, args.to)
        print(f"Dépôt modèle des étudiant·e·s créé : {args.to}")
    return EXIT_OK


INSTRUCTORS = ("collect", "autograde", "export", "final", "report", "release", "similarite",
               "retours", "formgrader")


def main(argv: list[str] | None = None) -> int:
    from .cli import parser
    from .config import CourseError

    args = parser().parse_args(argv)
    try:
        if args.command == "grade":
            return cmd_grade(args)
        if args.command == "check":
            args.seed, args.out = None, None
            return cmd_grade(args, hidden=False)
        if args.command == "summary":
            return cmd_summary(args)
        if args.command == "release":
            return cmd_release(args)
        return cmd_instructor(args)
    except CourseError as exc:  # an expected mistake of the course's set-up: one line, the fix
        print(f"Erreur : {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception:
        traceback.print_exc()
        whom = ("ce n'est pas une erreur de votre part : signalez-la avec le journal ci-dessus "
                "(les notes déjà enregistrées sont conservées)" if args.command in INSTRUCTORS
                else "ce n'est pas votre copie : signalez-la aux enseignants avec le journal "
                     "ci-dessus")
        print(f"Erreur interne du correcteur ({whom}).", file=sys.stderr)
        return EXIT_FAULT


if __name__ == "__main__":
    sys.exit(main())
