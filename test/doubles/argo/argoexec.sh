#!/bin/sh
# argoexec.sh HOSTDIR DIR [HOSTDIR DIR ...] -- COMMAND [ARG ...]
# Stands in for `argoexec emissary`, which wraps a template's command in a real Argo pod: the
# command runs in a private mount namespace where each output-parameter directory DIR is a bind
# mount of a per-pod HOSTDIR, so concurrent pods writing the same path (/tmp/flowbook/outputs/x)
# never see each other's files, and the controller reads each pod's outputs from its HOSTDIR.
script=''
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
  # creating DIR on the host is harmless: the bind mount covers it only inside the namespace
  mkdir -p "$1" "$2" || exit 127
  script="$script mount --bind '$1' '$2' || exit 127;"
  shift 2
done
shift
exec unshare -m sh -c "$script exec \"\$@\"" argoexec "$@"
