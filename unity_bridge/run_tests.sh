#!/usr/bin/env bash
# Compiles the pure C# core (Runtime/Core) and its NUnit tests (Tests/) with mono's mcs and runs
# them with nunit-console. Exit status is non-zero when compilation or any test fails.
# Needs Debian's mono-mcs, mono-devel, nunit-console, libnunit-cil-dev (`make setup` installs them).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LANGVERSION="${LANGVERSION:-7.2}"  # newest mcs (mono 6.8) accepts; the core must stay C# 7.x

for tool in mcs nunit-console; do
    command -v "$tool" >/dev/null || { echo "error: $tool not found (apt-get install mono-mcs mono-devel nunit-console libnunit-cil-dev)" >&2; exit 2; }
done

nunit_dll="${NUNIT_FRAMEWORK_DLL:-}"
if [ -z "$nunit_dll" ]; then
    for candidate in /usr/lib/cli/nunit.framework-2.6*/nunit.framework.dll \
                     /usr/lib/mono/gac/nunit.framework/2.6*/nunit.framework.dll; do
        if [ -f "$candidate" ]; then nunit_dll="$candidate"; break; fi
    done
fi
[ -n "$nunit_dll" ] && [ -f "$nunit_dll" ] || { echo "error: nunit.framework.dll (2.6) not found; set NUNIT_FRAMEWORK_DLL" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/coach_unity_bridge.XXXXXX")"
trap 'rm -rf "$work"' EXIT

mcs -nologo -langversion:"$LANGVERSION" -warnaserror+ -target:library -debug \
    -out:"$work/CoachBridge.Core.dll" "$here"/Runtime/Core/*.cs
mcs -nologo -langversion:"$LANGVERSION" -target:library -debug \
    -r:"$work/CoachBridge.Core.dll" -r:"$nunit_dll" \
    -r:System.Runtime.Serialization.dll -r:System.Xml.dll \
    -out:"$work/CoachBridge.Core.Tests.dll" "$here"/Tests/*.cs
cp "$nunit_dll" "$work/"
# Type-check the Unity glue (Runtime/Unity) against API stubs of UnityEngine and gRPC
# (Tests/GlueStubs~, ignored by Unity). Catches glue that no longer matches the core's API.
mcs -nologo -langversion:"$LANGVERSION" -target:library -r:System.Net.Http.dll \
    -out:"$work/CoachBridge.Unity.CompileCheck.dll" \
    "$here"/Runtime/Core/*.cs "$here"/Runtime/Unity/*.cs "$here"/Tests/GlueStubs~/*.cs
echo "Unity glue type-checks against stubs"

export COACH_BRIDGE_VECTORS="$here/Tests/vectors/pose_vectors_v1.json"
cd "$work"
nunit-console -nologo -noshadow -xml="$work/TestResult.xml" "$work/CoachBridge.Core.Tests.dll" "$@"
