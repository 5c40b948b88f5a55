# shellcheck shell=bash
# Sourced by bench/run.sh and bench/profile.sh: the binary they measure and the copies of
# the corpus they measure it on.
#   ddb_binary REPO                  print the binary to measure: $DDB_GUARD, else REPO's
#                                    release build (built now, cargo's output on stderr);
#                                    exit 2 when it is not an executable
#   template_files DIR               NUL-separated ./relative paths of DIR's template files,
#                                    sorted
#   make_copies CORPUS COPIES DEST   COPIES copies of CORPUS's template files, copy k in
#                                    DEST/c<k>/: with make-big-corpus.sh ($MAKE_BIG_CORPUS,
#                                    default CORPUS/../bench/make-big-corpus.sh) when it is
#                                    there, else a copy loop with its --keep-names layout

ddb_binary() {
  local bin=${DDB_GUARD:-}
  if [ -z "$bin" ]; then
    echo "building ddb-guard (release)" >&2
    (cd "$1" && cargo build --release --locked --quiet) >&2
    bin=$1/target/release/ddb-guard
  fi
  [ -x "$bin" ] || { echo "not an executable: $bin" >&2; exit 2; }
  echo "$bin"
}

template_files() {
  (cd "$1" && find . -type f \( -iname '*.yaml' -o -iname '*.yml' -o -iname '*.json' -o -iname '*.template' \) -print0) | sort -z
}

make_copies() {
  local corpus=$1 copies=$2 dest=$3 make_big width tag k
  make_big=${MAKE_BIG_CORPUS:-$corpus/../bench/make-big-corpus.sh}
  echo "materializing $copies copies of $corpus" >&2
  if [ -x "$make_big" ]; then
    "$make_big" "$corpus" "$copies" "$dest" >&2
    return
  fi
  width=${#copies}; [ "$width" -lt 4 ] && width=4
  mkdir -p "$dest"
  template_files "$corpus" > "$dest/.files"
  for k in $(seq 1 "$copies"); do
    tag=$(printf "c%0${width}d" "$k")
    mkdir -p "$dest/$tag"
    tar -C "$corpus" --null -T "$dest/.files" -cf - | tar -C "$dest/$tag" -xf -
  done
  rm -f "$dest/.files"
}
