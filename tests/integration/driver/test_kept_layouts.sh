#!/bin/sh
# Kept pipeline layouts count against the client's object limit
# (vn_kept_layouts.c): through venus-server with --max-objects=450, 300
# command buffers that each keep a destroyed layout alive must lose the
# device (600 objects and more), and the same with each command buffer freed
# at once must not. Lavapipe hosts only (CI): other drivers keep nothing.
#
# usage: test_kept_layouts.sh VENUS_RUN VENUS_SERVER VN_KEPT_LAYOUTS
set -u
venus_run=$1
server=$2
program=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/kept-layouts.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
cat >"$work/server" <<EOS
#!/bin/sh
exec "$server" --max-objects=450 "\$@"
EOS
chmod +x "$work/server"

fail=0
for mode in keep free; do
   if "$venus_run" --server "$work/server" --keep-log "$program" 300 $mode >"$work/out" 2>"$work/err"; then
      cat "$work/out"
   else
      echo "vn_kept_layouts 300 $mode failed:" >&2
      cat "$work/out" >&2
      tail -n 20 "$work/err" >&2
      fail=1
   fi
   if [ $mode = keep ] && ! grep -q "object limit (450 live objects) reached" "$work/err"; then
      echo "the server did not report the object limit" >&2
      fail=1
   fi
done
exit $fail
