# Sourced by the test scripts: a venv with one pinned PyPI package, installed on first use under
# the test cache (PRAXIS_TEST_CACHE, default target/test-deps) and reused while the version
# matches.
#
#   . tests/lib/venv.sh; venv=$(pinned_venv NAME PACKAGE VERSION)

pinned_venv() {
  local name=$1 package=$2 version=$3
  local dir=${PRAXIS_TEST_CACHE:-$root/target/test-deps}/$name
  if [ ! -x "$dir/bin/python" ] ||
    ! "$dir/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('$package') != '$version')" 2>/dev/null; then
    python3 -m venv "$dir" >&2
    "$dir/bin/pip" install --quiet --disable-pip-version-check "$package==$version" >&2
  fi
  echo "$dir"
}
