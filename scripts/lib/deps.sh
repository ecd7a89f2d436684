# deps.sh - sourced by scripts/test and scripts/demo: install the Debian
# packages chatdesk needs to build and test, only those missing.

CHATDESK_BUILD_PACKAGES=(
    gcc make cmake pkg-config
    libstrophe-dev libexpat1-dev libssl-dev libsqlite3-dev libpq-dev libinih-dev
    libcmocka-dev libicu-dev libsystemd-dev libmicrohttpd-dev
    libcurl4-openssl-dev libjansson-dev
)
CHATDESK_RUNTIME_PACKAGES=(prosody ejabberd)
# postgresql-15: the store tests' second engine (tests/pg/pgfixture starts
# a throw-away server; Debian's own cluster is not used).
CHATDESK_TEST_PACKAGES=(python3 python3-slixmpp valgrind clang libclang-rt-14-dev
    dpkg-dev file systemd man-db postgresql-15)

# install_missing PKG...: apt-get install what dpkg does not have yet.
install_missing() {
    local missing=() p
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
            grep -q "install ok installed"; then
            missing+=("$p")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing: ${missing[*]}"
    local sudo="" had_erlang=0
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    dpkg-query -W -f='${Status}' erlang-base 2>/dev/null |
        grep -q "install ok installed" && had_erlang=1
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -q
    $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
    case " ${missing[*]} " in
    *" ejabberd "*) stop_system_ejabberd "$had_erlang" ;;
    esac
}

# stop_system_ejabberd HAD_ERLANG: where service starts are allowed, Debian's
# ejabberd package starts the system instance at once (stock config: ports
# 5222, 5223, 5269, 5280, 5443, 1883, 3478 on every interface) and erlang-base
# an epmd socket on 4369. The end-to-end tests run their own ejabberd on
# free loopback ports; stop and disable the system one just installed, and
# epmd too when erlang-base came with it (HAD_ERLANG=0). An ejabberd that was
# installed before is never touched: install_missing calls this only when it
# installed the package itself.
stop_system_ejabberd() {
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    if [ -d /run/systemd/system ]; then
        $sudo systemctl disable --now ejabberd.service >/dev/null 2>&1 || true
        if [ "$1" = 0 ]; then
            $sudo systemctl disable --now epmd.socket epmd.service \
                >/dev/null 2>&1 || true
        fi
    elif [ -s /run/ejabberd/ejabberd.pid ] &&
        $sudo kill -0 "$(cat /run/ejabberd/ejabberd.pid)" 2>/dev/null; then
        # sysvinit: the script's stop also ends the epmd it started.
        $sudo service ejabberd stop >/dev/null 2>&1 || true
    fi
    echo "ejabberd installed; its system service is not running (chatdesk's" \
        "tests start their own)"
}

# The client portal and its browser tests: Debian's chromium, and node + npm
# for the portal's library (portal/) and the test driver (tests/browser/).
CHATDESK_BROWSER_PACKAGES=(chromium)

# install_node: Debian's nodejs and npm, unless node and npm are on PATH
# already (e.g. a NodeSource node, which bundles npm).
install_node() {
    local missing=()
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
    [ ${#missing[@]} -eq 0 ] || install_missing "${missing[@]}"
}

# npm_ci DIR...: install each DIR's locked npm packages (package-lock.json).
npm_ci() {
    local d
    for d in "$@"; do
        [ -f "$d/package-lock.json" ] || continue
        (cd "$d" && npm ci --no-audit --no-fund --loglevel=error)
    done
}
