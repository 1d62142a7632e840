#!/usr/bin/env bash
# Installs what building and testing libbgworker need, and only what is missing: the C toolchain,
# pkg-config, PostgreSQL 15 (server, server headers, libpq) and a Rust toolchain new enough for
# Cargo.toml's rust-version.  Debian/Ubuntu (apt); non-interactive; apt runs only as root (or
# through password-less sudo) and only when a package is missing.
set -euo pipefail

# groff-base renders the man pages and systemd has systemd-analyze, which checks the unit file
# (tests/service.rs).
packages=(build-essential g++ pkg-config postgresql-15 postgresql-server-dev-15 libpq-dev valgrind binutils
	groff-base systemd)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

as_root() {
	if [[ $(id -u) -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		sudo -n "$@"
	else
		echo "install-deps: need root to run: $*" >&2
		return 1
	fi
}

apt_updated=false
apt_install() {
	if ! command -v apt-get >/dev/null; then
		echo "install-deps: missing $*, and this system has no apt-get; install them by hand" >&2
		exit 1
	fi
	if ! $apt_updated; then
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
		apt_updated=true
	fi
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

installed() { # installed PACKAGE: is the dpkg package installed?
	[[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

missing=()
if command -v dpkg-query >/dev/null; then
	for p in "${packages[@]}"; do
		installed "$p" || missing+=("$p")
	done
else
	# Not a dpkg system: check for the things themselves.
	command -v cc >/dev/null || missing+=(build-essential)
	command -v c++ >/dev/null || missing+=(g++)
	command -v pkg-config >/dev/null || missing+=(pkg-config)
	[[ -f /usr/include/postgresql/15/server/postmaster/bgworker.h ]] ||
		missing+=(postgresql-server-dev-15)
fi
if ((${#missing[@]})); then
	echo "install-deps: installing ${missing[*]}"
	apt_install "${missing[@]}"
fi

# PostgreSQL's source package (tests build its own test modules from it, .ci/pg-source.sh):
# apt needs deb-src entries, added beside the deb ones where the system has none.
if command -v apt-get >/dev/null && [[ -z $(apt-cache showsrc postgresql-15 2>/dev/null | head -n1) ]]; then
	echo "install-deps: adding deb-src entries for apt (PostgreSQL's source package)"
	src_list=/etc/apt/sources.list.d/bgworker-deb-src
	if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
		# deb822 stanzas of Debian's own archives, again with Types: deb-src.
		awk -v RS= -v ORS='\n\n' '/debian\.org/ && /Types:/' /etc/apt/sources.list.d/*.sources |
			sed 's/^Types:.*/Types: deb-src/' | as_root tee "$src_list.sources" >/dev/null
	fi
	if [[ -f /etc/apt/sources.list ]]; then
		sed -n 's/^deb \(.*debian\.org.*\)/deb-src \1/p' /etc/apt/sources.list | as_root tee "$src_list.list" >/dev/null
	fi
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
	apt_updated=true
fi

# Rust: rustup's toolchain when cargo is missing or older than Cargo.toml's rust-version.
export PATH="$HOME/.cargo/bin:$PATH"
want=$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' "$root/Cargo.toml")
want=${want:-1.0}
rust_ok() {
	command -v cargo >/dev/null && command -v rustc >/dev/null || return 1
	local have
	have=$(rustc --version | awk '{print $2}')
	[[ $(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n1) == "$want" ]]
}
if ! rust_ok; then
	if command -v rustup >/dev/null; then
		rustup toolchain install stable --profile minimal --component rustfmt,clippy
		rustup default stable
	else
		command -v curl >/dev/null || apt_install curl ca-certificates
		echo "install-deps: installing the Rust toolchain with rustup (needs rustc >= $want)"
		curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
			sh -s -- -y --profile minimal --component rustfmt,clippy
	fi
	rust_ok || {
		echo "install-deps: rustc >= $want still not found on PATH" >&2
		exit 1
	}
fi
