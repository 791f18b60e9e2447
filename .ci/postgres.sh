# Sourced by .ci/run: start a throwaway PostgreSQL server (Unix socket only, no TCP) for the
# gradebook tests and export GRADER_TEST_DB_URL; stopped when .ci/run exits.
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -n "$PGBIN" ]; then
  PGDIR=$(mktemp -d /tmp/grader-pg.XXXXXX)
  AS=()
  if [ "$(id -u)" = 0 ]; then chown postgres "$PGDIR"; AS=(runuser -u postgres --); fi
  "${AS[@]}" "$PGBIN/initdb" -D "$PGDIR/data" -U grader --auth=trust >/dev/null
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w \
    -o "-k $PGDIR -p 54329 -c listen_addresses=''" start >/dev/null
  "${AS[@]}" "$PGBIN/createdb" -h "$PGDIR" -p 54329 -U grader gradebook
  export GRADER_TEST_DB_URL="postgresql://grader@/gradebook?host=$PGDIR&port=54329"
  trap '"${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast stop >/dev/null; rm -rf "$PGDIR"' EXIT
  echo "PostgreSQL de test : $GRADER_TEST_DB_URL"
else
  echo "PostgreSQL absent : les tests du carnet de notes sur PostgreSQL seront sautés"
fi
