# Sourced by the benchmark scripts that time commands with hyperfine: makes sure it is there,
# installing it with apt-get when run as root, else saying how.
if ! command -v hyperfine >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq hyperfine
  else
    echo "hyperfine is needed: sudo apt-get install hyperfine" >&2
    exit 2
  fi
fi
