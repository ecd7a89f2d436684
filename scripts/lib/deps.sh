# deps.sh - sourced by scripts/test and scripts/demo: install the Debian
# packages chatdesk needs to build and test, only those missing.

CHATDESK_BUILD_PACKAGES=(
    gcc make cmake pkg-config
    libstrophe-dev libexpat1-dev libssl-dev libsqlite3-dev libinih-dev
    libcmocka-dev
)
CHATDESK_RUNTIME_PACKAGES=(prosody)
CHATDESK_TEST_PACKAGES=(python3 python3-slixmpp valgrind)

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
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -q
    $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}
