"""Write sandbox/helm/values-<commit>.yaml: the organism parts of Loculus's Helm values at one commit.

    git -C <loculus clone> show <commit>:kubernetes/loculus/values.yaml > /tmp/values.yaml
    git -C <loculus clone> show <commit>:kubernetes/loculus/templates/_common-metadata.tpl > /tmp/common.tpl
    python -m sandbox.helm.vendor_values /tmp/values.yaml /tmp/common.tpl <commit> \
        > sandbox/helm/values-<commit[:8]>.yaml

Keeps the top-level values the website templates read (name, accessionPrefix, dataUseTerms) and the
chosen `defaultOrganisms`, with YAML anchors resolved by PyYAML (shared lists stay shared: the dump
writes them once, as `&id` anchors). Dropped, because no website or backend config template reads
them: each organism's `preprocessing`, `ingest` and `enaDeposition` blocks and each field's `ingest`
mapping. The common metadata is not in values.yaml but in `_common-metadata.tpl` ("loculus.commonMetadata");
it is appended as `commonMetadata`, its Helm expressions written as data: `printf "…" $.Values.x | quote`
becomes the format string plus `printfArgs: [x]`, and a field inside `{{- if $.Values.x }}` gets `if: [x]`.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import yaml

ORGANISMS = ("cchf", "dummy-organism-with-files", "ebola-sudan", "west-nile")
DROPPED_ORGANISM_KEYS = ("preprocessing", "ingest", "enaDeposition")


def strip_field_ingest(fields: list[dict[str, Any]]) -> None:
    for item in fields:
        item.pop("ingest", None)


def vendored(values: dict[str, Any]) -> dict[str, Any]:
    organisms = {}
    for key in ORGANISMS:
        organism = dict(values["defaultOrganisms"][key])
        for dropped in DROPPED_ORGANISM_KEYS:
            organism.pop(dropped, None)
        schema = organism["schema"]
        for list_key in ("metadata", "metadataAdd", "extraInputFields"):
            strip_field_ingest(schema.get(list_key) or [])
        organisms[key] = organism
    return {
        "name": values["name"],
        "accessionPrefix": values["accessionPrefix"],
        "dataUseTerms": values["dataUseTerms"],
        "defaultOrganisms": organisms,
    }


PRINTF = re.compile(r"(\s*)definition: \{\{ printf (\".*?\") ((?:\$\.Values\.\w+ ?)+)\| quote \}\}")
IF = re.compile(r"\{\{- if \$\.Values\.([\w.]+) ?\}\}")


def common_metadata_yaml(template: str) -> str:
    """The fields of "loculus.commonMetadata", with its printf and if expressions written as data."""
    body = template.split('{{- define "loculus.commonMetadata" }}\nfields:\n', 1)[1].split("\n{{- end}}\n", 1)[0]
    lines: list[str] = []
    conditions: list[str] = []
    for line in body.split("\n"):
        stripped = line.strip()
        if match := IF.match(stripped):
            conditions.append(match.group(1))
            continue
        if stripped.startswith("{{- end"):
            conditions.pop()
            continue
        if match := PRINTF.match(line):
            indent, text, args = match.groups()
            lines.append(f"{indent}definition: {text}")
            lines.append(f"{indent}printfArgs: [{', '.join(a.removeprefix('$.Values.') for a in args.split())}]")
            continue
        lines.append(line)
        if stripped.startswith("- name:") and conditions:
            lines.append(f"{line.split('-')[0]}  if: [{', '.join(conditions)}]")
    return "\n".join(lines)


def main(values_path: str, common_path: str, commit: str) -> None:
    with open(values_path, encoding="utf-8") as source:
        values = yaml.safe_load(source)
    with open(common_path, encoding="utf-8") as source:
        common = common_metadata_yaml(source.read())
    print(f"# Vendored from loculus-project/loculus@{commit}:")
    print("# kubernetes/loculus/values.yaml (organism parts only) and, as commonMetadata,")
    print("# kubernetes/loculus/templates/_common-metadata.tpl. Written by `python -m sandbox.helm.vendor_values`.")
    print(yaml.safe_dump(vendored(values), sort_keys=False, allow_unicode=True, width=120), end="")
    print("commonMetadata:")
    print(common)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
