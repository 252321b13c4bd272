#!/bin/sh
# gen_proto.sh — regenerate profile.pb-c.c/.h from profile.proto
#
# Needs protoc-c (Debian protobuf-c-compiler). The output is committed, so
# the memtrace build does not run this; run it after editing profile.proto.
#
# SPDX-License-Identifier: MIT
set -eu
cd "$(dirname "$0")"
protoc-c --c_out=. profile.proto
echo "regenerated profile.pb-c.c profile.pb-c.h"
