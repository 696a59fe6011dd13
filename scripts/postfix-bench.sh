#!/usr/bin/env bash
# postfix-bench.sh: relay throughput of Debian's Postfix, for comparison with
# cable's store-and-forward relay.
#
# What it measures, all on loopback:
#
#   smtp-source --(SMTP, S parallel sessions)--> Postfix 127.0.0.1:PORT
#       --(SMTP, one hop, relayhost)--> smtp-sink 127.0.0.1:SINK_PORT
#
# smtp-source sends N messages of SIZE bytes of body. Postfix takes custody of
# each one the way it always does: its cleanup daemon writes the queue file
# and fsyncs it before smtpd answers "250" to smtp-source. Postfix then relays
# each message to smtp-sink, which writes each message to its own file (-d)
# and closes it before it answers "250". smtp-sink has no fsync option: its
# custody is write(2)+close(2), the message is in the kernel's page cache and
# survives a crash of smtp-sink but not of the machine. This favours Postfix's
# second hop slightly (cable's receiving hop syncs); Postfix's own hop is
# fully durable.
#
# The figure is end to end: from the moment smtp-source starts until
# smtp-sink has written the N-th message (smtp-sink -M N exits then), in
# messages per second. The script also reports the rate at which Postfix
# accepted the messages (smtp-source's run time) and, as context for the
# disk, how many 4 KB O_DSYNC writes per second the same filesystem takes.
#
# The Postfix instance is private: its own config directory, queue, data
# directory and log under a temporary work directory, listening on
# 127.0.0.1:PORT only (never port 25), with Postfix's default queue, fsync,
# concurrency and flow-control behaviour (scripts/postfix/*.cf.in). The
# system's Postfix configuration is not touched; if the postfix package is
# missing it is installed with debconf preseeded to "No configuration", so
# the system instance never starts. Everything the script started is stopped
# on exit. Needs root (Postfix's master must start as root).
#
# Usage: scripts/postfix-bench.sh [flags]
#   -n, --messages N     messages to send (env POSTFIX_BENCH_MESSAGES, 20000)
#   -l, --size BYTES     body bytes per message (env POSTFIX_BENCH_SIZE, 4096)
#   -s, --sessions S     parallel smtp-source sessions (env POSTFIX_BENCH_SESSIONS, 20)
#   --port P             Postfix's SMTP port (env POSTFIX_BENCH_PORT, 2525)
#   --sink-port P        smtp-sink's port (env POSTFIX_BENCH_SINK_PORT, 2526)
#   --reconnect          one SMTP session per message from smtp-source
#                        (default: sessions stay open, smtp-source -d)
#   --dir DIR            where to make the work directory; must be on the
#                        disk being compared, not tmpfs (env POSTFIX_BENCH_DIR, /var/tmp)
#   --timeout SECONDS    give up after this long (env POSTFIX_BENCH_TIMEOUT, 900)
#   --keep               keep the work directory (queue, maillog, dumps)
#   --json               print the result as one JSON object instead of the line
#   -h, --help           this text
#
# Output (stdout), one line:
#   postfix: N messages of SIZE bytes, smtp-source -> postfix -> smtp-sink, X msg/s
# Commands, set-up and checks go to stderr.

set -euo pipefail

messages=${POSTFIX_BENCH_MESSAGES:-20000}
size=${POSTFIX_BENCH_SIZE:-4096}
sessions=${POSTFIX_BENCH_SESSIONS:-20}
port=${POSTFIX_BENCH_PORT:-2525}
sink_port=${POSTFIX_BENCH_SINK_PORT:-2526}
base=${POSTFIX_BENCH_DIR:-/var/tmp}
timeout_s=${POSTFIX_BENCH_TIMEOUT:-900}
json=0
keep=0
reconnect=0

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
templates=$here/postfix

usage() { sed -n '/^# Usage:/,/^# Commands/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
log() { printf 'postfix-bench: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

while (($#)); do
	case $1 in
	-n | --messages) messages=${2:?}; shift 2 ;;
	-l | --size) size=${2:?}; shift 2 ;;
	-s | --sessions) sessions=${2:?}; shift 2 ;;
	--port) port=${2:?}; shift 2 ;;
	--sink-port) sink_port=${2:?}; shift 2 ;;
	--dir) base=${2:?}; shift 2 ;;
	--timeout) timeout_s=${2:?}; shift 2 ;;
	--reconnect) reconnect=1; shift ;;
	--keep) keep=1; shift ;;
	--json) json=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument: $1" ;;
	esac
done

for v in messages size sessions port sink_port timeout_s; do
	[[ ${!v} =~ ^[0-9]+$ && ${!v} -gt 0 ]] || die "$v must be a positive integer, got '${!v}'"
done
((port != 25 && sink_port != 25)) || die "port 25 is the machine's own; pick another"
((port != sink_port)) || die "--port and --sink-port must differ"
((port < 65536 && sink_port < 65536)) || die "ports must be below 65536"
((EUID == 0)) || die "must run as root (Postfix's master process starts as root)"
[[ -f $templates/main.cf.in && -f $templates/master.cf.in ]] || die "templates missing in $templates"

# --- install -----------------------------------------------------------------

if ! command -v postfix >/dev/null || ! command -v smtp-source >/dev/null || ! command -v smtp-sink >/dev/null; then
	export PATH=$PATH:/usr/sbin:/sbin
fi
if ! command -v postfix >/dev/null || ! command -v smtp-source >/dev/null || ! command -v smtp-sink >/dev/null; then
	log "installing Debian's postfix package (debconf: No configuration; the system instance stays unconfigured and stopped)"
	debconf-set-selections <<-'EOF'
		postfix postfix/main_mailer_type select No configuration
		postfix postfix/mailname string localhost
	EOF
	apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postfix >&2; }
	apt_install || { apt-get update -q >&2 && apt_install; } || die "apt-get install postfix failed"
fi
for t in postfix postconf smtp-source smtp-sink ss; do
	command -v "$t" >/dev/null || die "$t not found"
done
postfix_version=$(postconf -d -h mail_version)

# --- work directory and private instance -------------------------------------

fstype=$(stat -f -c %T "$base")
[[ $fstype != tmpfs && $fstype != ramfs ]] ||
	die "$base is $fstype: fsync would cost nothing there; use --dir on the disk being compared"

listening() { [[ -n $(ss -Hltn "sport = :$1") ]]; }
for p in "$port" "$sink_port"; do
	! listening "$p" || die "port $p is already in use"
done

work=$(mktemp -d "$base/postfix-bench.XXXXXX")
chmod 755 "$work" # the postfix and nobody users must reach their directories
conf=$work/etc
sink_dir=$work/sink
sink_user=nobody
sink_pid=
source_pid=
postfix_started=0

stop_pid() { # stop_pid PID: TERM, then KILL after 10 s; only a process we started
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$? pid i
	set +e
	[[ -n $source_pid ]] && stop_pid "$source_pid"
	[[ -n $sink_pid ]] && stop_pid "$sink_pid"
	if ((postfix_started)); then
		pid=$(tr -d ' ' <"$work/queue/pid/master.pid" 2>/dev/null)
		postfix -c "$conf" stop >>"$work/postfix.out" 2>&1
		for ((i = 0; i < 100; i++)); do
			if [[ -z $pid ]] || ! kill -0 "$pid" 2>/dev/null; then break; fi
			sleep 0.1
		done
		if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
			log "Postfix master $pid did not stop; aborting the instance"
			postfix -c "$conf" abort >>"$work/postfix.out" 2>&1
		fi
	fi
	wait 2>/dev/null
	if ((keep)); then
		log "kept $work (maillog, queue, postfix.out, sink/)"
	else
		rm -rf "$work"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$conf" "$work/queue" "$work/data" "$sink_dir"
chown postfix: "$work/data"
chown "$sink_user": "$sink_dir"
for f in main.cf master.cf; do
	sed -e "s|@WORK@|$work|g" -e "s|@PORT@|$port|g" -e "s|@SINK_PORT@|$sink_port|g" \
		"$templates/$f.in" >"$conf/$f"
done
touch "$work/maillog"

# Disk context: 4 KB writes with O_DSYNC on the same filesystem, one at a time.
dsync_n=200
dsync_t0=$EPOCHREALTIME
dd if=/dev/zero of="$work/dsync.probe" bs=4k count=$dsync_n oflag=dsync status=none
dsync_t1=$EPOCHREALTIME
rm -f "$work/dsync.probe"
dsync_rate=$(awk -v n=$dsync_n -v a="$dsync_t0" -v b="$dsync_t1" 'BEGIN { printf "%.0f", n / (b - a) }')
log "disk: $dsync_rate synchronous 4 KB writes/s on $base ($fstype)"

postfix -c "$conf" check >>"$work/postfix.out" 2>&1 || { cat "$work/postfix.out" >&2; die "postfix check failed"; }
postfix_started=1
postfix -c "$conf" start >>"$work/postfix.out" 2>&1 || { cat "$work/postfix.out" >&2; die "postfix start failed"; }

# smtp-sink: -u drops root after binding; -d dumps each message to its own
# file (closed before the 250 reply); -M exits after the N-th message.
sink_cmd=(smtp-sink -4 -u "$sink_user" -d "$sink_dir/" -M "$messages" "127.0.0.1:$sink_port" 256)
source_cmd=(smtp-source -4 -s "$sessions" -m "$messages" -l "$size"
	-M postfix-bench.localdomain -f bench@source.example -t relay@sink.example)
((reconnect)) || source_cmd+=(-d)
source_cmd+=("127.0.0.1:$port")
log "postfix $postfix_version, private instance: postfix -c $conf"
log "sink:   ${sink_cmd[*]}"
log "source: ${source_cmd[*]}"

timeout "$timeout_s" "${sink_cmd[@]}" >"$work/sink.out" 2>&1 &
sink_pid=$!

for ((i = 0; i < 100; i++)); do
	listening "$port" && listening "$sink_port" && break
	kill -0 "$sink_pid" 2>/dev/null || { cat "$work/sink.out" >&2; die "smtp-sink exited"; }
	sleep 0.1
done
listening "$port" || { cat "$work/postfix.out" "$work/maillog" >&2; die "Postfix is not listening on 127.0.0.1:$port"; }
listening "$sink_port" || die "smtp-sink is not listening on 127.0.0.1:$sink_port"

# --- run -----------------------------------------------------------------------

cpu_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat; } # busy idle(+iowait)
read -r busy0 idle0 < <(cpu_ticks)
t0=$EPOCHREALTIME
"${source_cmd[@]}" >"$work/source.out" 2>&1 &
source_pid=$!

source_rc=0
wait "$source_pid" || source_rc=$?
t_accepted=$EPOCHREALTIME
source_pid=
((source_rc == 0)) || { cat "$work/source.out" >&2; die "smtp-source failed (exit $source_rc)"; }

sink_rc=0
wait "$sink_pid" || sink_rc=$?
t1=$EPOCHREALTIME
read -r busy1 idle1 < <(cpu_ticks)
sink_pid=
((sink_rc != 124)) || die "timed out after ${timeout_s}s; smtp-sink had $(find "$sink_dir" -type f | wc -l) of $messages messages"
((sink_rc == 0)) || { cat "$work/sink.out" >&2; die "smtp-sink failed (exit $sink_rc)"; }

# --- check and report --------------------------------------------------------

received=$(find "$sink_dir" -type f | wc -l)
((received == messages)) || die "smtp-sink dumped $received messages, expected $messages"
dump_bytes=$(find "$sink_dir" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s / NR }')
((dump_bytes >= size)) || die "dumped messages average $dump_bytes bytes, less than the $size-byte body"
sent=$(grep -c 'status=sent' "$work/maillog" || true)
log "checked: smtp-sink has $received files (average $dump_bytes bytes with headers); Postfix logged $sent status=sent (the last may be missing: smtp-sink -M exits before its final 250)"

read -r seconds rate accept_seconds accept_rate < <(awk -v n="$messages" -v a="$t0" -v b="$t1" -v c="$t_accepted" \
	'BEGIN { printf "%.3f %.0f %.3f %.0f\n", b - a, n / (b - a), c - a, n / (c - a) }')
cores=$(nproc)
# Share of all cores' time that was busy (user, system, irq) during the run,
# whoever used it: Postfix, smtp-source, smtp-sink or anything else running.
cpu_busy=$(awk -v b="$((busy1 - busy0))" -v i="$((idle1 - idle0))" 'BEGIN { printf "%.0f", 100 * b / (b + i) }')
mode=$([[ $reconnect == 1 ]] && echo "one session per message" || echo "sessions kept open")

if ((json)); then
	q() { local s=${1//\\/\\\\}; printf '"%s"' "${s//\"/\\\"}"; }
	printf '{"engine":"postfix","postfix_version":%s,"messages":%d,"size":%d,"sessions":%d,"mode":%s,' \
		"$(q "$postfix_version")" "$messages" "$size" "$sessions" "$(q "$mode")"
	printf '"seconds":%s,"msg_per_s":%s,"accept_seconds":%s,"accept_msg_per_s":%s,' \
		"$seconds" "$rate" "$accept_seconds" "$accept_rate"
	printf '"dsync_4k_writes_per_s":%s,"cores":%d,"cpu_busy_pct":%s,"source_command":%s,"sink_command":%s}\n' \
		"$dsync_rate" "$cores" "$cpu_busy" "$(q "${source_cmd[*]}")" "$(q "${sink_cmd[*]}")"
else
	log "accepted by Postfix (fsynced) in ${accept_seconds}s: $accept_rate msg/s; end to end ${seconds}s; $cores cores, ${cpu_busy}% busy; $mode"
	printf 'postfix: %d messages of %d bytes, smtp-source -> postfix -> smtp-sink, %s msg/s\n' \
		"$messages" "$size" "$rate"
fi
