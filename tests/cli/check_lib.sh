# The check helpers of the keel end-to-end scripts (cli_test.sh, tools_test.sh,
# cluster_nemesis_test.sh), sourced after they set $work (a scratch directory). Failures
# are counted in $fail; each script exits with it.
#   check NAME EXPECTED_EXIT COMMAND...   runs COMMAND (stdin: the file $stdin, else
#                                         /dev/null) into $work/out and $work/err
#   has NAME FILE PATTERN                 FILE contains PATTERN (grep)
#   ok NAME / bad NAME                    report a check the script made itself
fail=0
check() {
    local name=$1 want=$2
    shift 2
    "$@" <"${stdin:-/dev/null}" >"$work/out" 2>"$work/err"
    local got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL $name: exit $got, wanted $want"; sed 's/^/  | /' "$work/out" "$work/err" | head -40
        fail=1
    else
        echo "ok   $name"
    fi
}
has() {
    if grep -q -- "$3" "$2"; then echo "ok   $1"; else echo "FAIL $1: '$3' not in $2"; sed 's/^/  | /' "$2" | head -40; fail=1; fi
}
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
