"""The sandbox's organisms generated from Loculus's own Helm values, through the steps of its templates.

A Loculus instance's website config (served as /loculus-info, contract §7.3) is rendered by Helm from
``kubernetes/loculus/values.yaml``. This module renders the same config in Python from a pinned copy of
those values (sandbox/helm/values-daf80530.yaml, see sandbox/helm/vendor_values.py), one function per
template step; each names the template (under kubernetes/loculus/templates/) it mirrors. The result
becomes the sandbox's Organism objects: the website schema as rendered, and the backend's submit
settings (contract §7.2) and the processing rules read from the same values.

Not mirrored: the config processor's download of ``[[URL:…]]`` reference sequences (the sandbox serves
them as written; the portal reads only the segment names), and the website keys no submission reads
are passed through as the templates pass them, unchecked.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from sandbox.organisms import Field, Organism

VALUES_PATH = Path(__file__).resolve().parent / "helm" / "values-daf80530.yaml"
# The organisms `make demo` shows; the vendored file also holds dummy-organism-with-files.
HELM_ORGANISM_KEYS = ("cchf", "dummy-organism-with-files", "ebola-sudan", "west-nile")

# _inputFieldsFromValues.tpl: the keys an input field keeps.
INPUT_FIELD_KEYS = (
    "name",
    "displayName",
    "definition",
    "guidance",
    "example",
    "required",
    "noEdit",
    "desired",
    "options",
)
# The pipeline functions that apply the date rules of the sandbox's processing (sandbox/processing.py).
DATE_FUNCTIONS = ("parse_date_into_range", "parse_and_assert_past_date")


@cache
def load_values(path: Path = VALUES_PATH) -> dict[str, Any]:
    with open(path, encoding="utf-8") as source:
        return dict(yaml.safe_load(source))


def dig(values: dict[str, Any], dotted: str) -> Any:
    found: Any = values
    for part in dotted.split("."):
        found = found.get(part) if isinstance(found, dict) else None
    return found


def common_metadata(values: dict[str, Any]) -> list[dict[str, Any]]:
    """_common-metadata.tpl "loculus.commonMetadata": its printf and if expressions, evaluated."""
    fields = []
    for raw in values["commonMetadata"]:
        if not all(dig(values, condition) for condition in raw.get("if", [])):
            continue
        item = {key: value for key, value in raw.items() if key not in ("if", "printfArgs")}
        if "printfArgs" in raw:
            item["definition"] = raw["definition"] % tuple(values[name] for name in raw["printfArgs"])
        fields.append(item)
    return fields


def enabled_organisms(values: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """_enabledOrganisms.tpl: `organisms` or else `defaultOrganisms`, sorted by key, unless `enabled: false`."""
    organisms = values.get("organisms") or values["defaultOrganisms"]
    return [(key, organisms[key]) for key in sorted(organisms) if organisms[key].get("enabled") is not False]


def patch_metadata_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """_common-metadata.tpl "loculus.patchMetadataSchema": metadataAdd overrides metadata by name.

    The fields go through a dict keyed by name, so (as Helm ranges over a dict) they come out sorted by
    name; of two `metadata` entries with one name the first stays (sprig's merge keeps existing keys)."""
    by_name: dict[str, Any] = {}
    for item in schema.get("metadata") or []:
        by_name.setdefault(item["name"], item)
    for item in schema.get("metadataAdd") or []:
        by_name[item["name"]] = item
    patched = copy.deepcopy(schema)
    patched["metadata"] = [by_name[name] for name in sorted(by_name)]
    return patched


def submission_data_types(schema: dict[str, Any]) -> dict[str, Any]:
    """_submission-data-types.tpl "loculus.submissionDataTypes"."""
    given = schema.get("submissionDataTypes")
    if given is None:
        return {"consensusSequences": True}
    rendered: dict[str, Any] = {"consensusSequences": given.get("consensusSequences", True)}
    if "maxSequencesPerEntry" in given:
        rendered["maxSequencesPerEntry"] = given["maxSequencesPerEntry"]
    if "files" in given:
        rendered["files"] = given["files"]
    return rendered


def input_fields(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """_inputFieldsFromValues.tpl "loculus.inputFields", on the patched schema.

    A default `id` (unless extraInputFields has one), a default `fastaIds` when maxSequencesPerEntry is
    not 1, the extra fields placed `first`, the metadata fields without a `noInput` key, the extra fields
    placed `last` (extra fields without a position are left out); each keeps INPUT_FIELD_KEYS only."""
    extra = schema.get("extraInputFields") or []
    max_sequences = int((schema.get("submissionDataTypes") or {}).get("maxSequencesPerEntry", 1))
    chosen: list[dict[str, Any]] = []
    if not any(item["name"] == "id" for item in extra):
        chosen.append(
            {
                "name": "id",
                "displayName": "ID",
                "example": "GJP123",
                "noEdit": True,
                "required": True,
                "definition": (
                    "Your sequence identifier; should match the sequence's id in the FASTA file - "
                    "this is used to link the metadata to the FASTA sequence."
                    if max_sequences == 1
                    else "Your sample identifier. (If no `fastaIds` column is provided, this sample ID will be "
                    "used to associate the metadata with the sequence.)"
                ),
            }
        )
    if max_sequences != 1 and not any(item["name"] == "fastaIds" for item in extra):
        chosen.append(
            {
                "name": "fastaIds",
                "displayName": "FASTA IDs",
                "definition": "Space-separated list of FASTA IDs of each sequence to be associated with this "
                "metadata entry.",
                "example": "GJP123 GJP124",
                "noEdit": True,
                "desired": True,
            }
        )
    chosen += [item for item in extra if item.get("position") == "first"]
    chosen += [item for item in schema.get("metadata") or [] if "noInput" not in item]
    chosen += [item for item in extra if item.get("position") == "last"]
    # Helm's toYaml writes each field's keys sorted; JSON key order carries no meaning, so keep ours.
    return [{key: item[key] for key in INPUT_FIELD_KEYS if key in item} for item in chosen]


# loculus-website-config.yaml via "loculus.generateWebsiteConfig": appended after the input fields.
VERSION_COMMENT_INPUT_FIELD = {
    "name": "versionComment",
    "displayName": "Version comment",
    "definition": "Reason for revising sequences or other general comments concerning a specific version.",
    "example": "Fixed an issue in previous version where low-coverage nucleotides were erroneously filled with "
    "reference sequence.",
    "desired": True,
}


def segment_names(reference_genomes: list[dict[str, Any]]) -> tuple[list[str], dict[str, str]]:
    """_merged-reference-genomes.tpl "loculus.getNucleotideSegmentNames": sorted names, display names."""
    names = sorted(segment["name"] for segment in reference_genomes)
    display = {segment["name"]: segment["displayName"] for segment in reference_genomes if segment.get("displayName")}
    return names, display


def merged_nucleotide_sequences(reference_genomes: list[dict[str, Any]]) -> list[str]:
    """_merged-reference-genomes.tpl "loculus.mergeReferenceGenomes": the backend's nucleotide sequence names.

    One reference per segment keeps the segment's name; several get `{segment}-{reference}` (or just
    the reference's name when there is a single segment)."""
    single_segment = len(reference_genomes) == 1
    names = []
    for segment in reference_genomes:
        references = segment["references"]
        for reference in references:
            if len(references) == 1:
                names.append(segment["name"])
            else:
                names.append(reference["name"] if single_segment else f"{segment['name']}-{reference['name']}")
    return names


def standard_website_metadata(item: dict[str, Any]) -> dict[str, Any]:
    """_common-metadata.tpl "loculus.standardWebsiteMetadata": the search and display keys of one field."""
    entry: dict[str, Any] = {"type": item.get("type") or "string"}
    for source, target in (
        ("definition", "definition"),
        ("autocomplete", "autocomplete"),
        ("enableSubstringSearch", "substringSearch"),
        ("notSearchable", "notSearchable"),
        ("initiallyVisible", "initiallyVisible"),
        ("hideInSearchResultsTable", "hideInSearchResultsTable"),
    ):
        if item.get(source):
            entry[target] = item[source]
    if item.get("type") in ("timestamp", "date") or item.get("rangeSearch"):
        entry["rangeSearch"] = True
    if item.get("rangeOverlapSearch"):
        entry["rangeOverlapSearch"] = item["rangeOverlapSearch"]
    if item.get("lineageSystem"):
        entry["lineageSearch"] = True
    if item.get("hierarchicalFilter"):
        entry["hierarchicalSearch"] = True
        if item.get("hierarchicalSearchLabel"):
            entry["hierarchicalSearchLabel"] = item["hierarchicalSearchLabel"]
    for key in (
        "hideOnSequenceDetailsPage",
        "columnWidth",
        "order",
        "orderOnDetailsPage",
        "orderInSearchDisplay",
        "includeInDownloadsByDefault",
        "onlyForReference",
    ):
        if item.get(key):
            entry[key] = item[key]
    if custom := item.get("customDisplay"):
        display = {"type": custom["type"]}
        for key in ("url", "linkMenuItems", "displayGroup", "label", "html"):
            if custom.get(key):
                display[key] = custom[key]
        entry["customDisplay"] = display
    for key in ("isSequenceFilter", "relatesToSegment", "percentage"):
        if item.get(key):
            entry[key] = item[key]
    return entry


def website_metadata(metadata: list[dict[str, Any]], reference_genomes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """_common-metadata.tpl "loculus.generateWebsiteMetadata": a `perSegment` field once per segment."""
    segments, display_names = segment_names(reference_genomes)
    segmented = len(segments) > 1
    entries = []
    for item in metadata:
        if not (segmented and item.get("perSegment")):
            entry = standard_website_metadata(item) | {"name": item["name"]}
            if item.get("displayName"):
                entry["displayName"] = item["displayName"]
            entries.append(entry | {"header": item.get("header") or "Other"})
            continue
        for segment in segments:
            shown = display_names.get(segment, segment)
            entry = standard_website_metadata(item) | {"name": f"{item['name']}_{segment}"}
            if item.get("displayName"):
                entry["displayName"] = f"{item['displayName']} {shown}"
            header = item.get("header") or "Other"
            entry["header"] = header if item.get("oneHeader") else f"{header} {shown}"
            entry["relatesToSegment"] = segment
            if item.get("isSequenceFilter"):
                entry["isSequenceFilter"] = True
            custom = item.get("customDisplay") or {}
            if custom.get("displayGroup"):
                entry["customDisplay"] = {"type": custom["type"], "displayGroup": f"{custom['displayGroup']}_{segment}"}
                if custom.get("label"):
                    entry["customDisplay"]["label"] = f"{custom['label']} {shown}"
            entries.append(entry)
    return entries


def link_outs(schema: dict[str, Any]) -> list[dict[str, Any]]:
    kept = []
    for link in schema["linkOuts"]:
        entry = {"name": link["name"], "url": link["url"]}
        for key in ("maxNumberOfRecommendedEntries", "onlyForReferences", "category"):
            if link.get(key):
                entry[key] = link[key]
        kept.append(entry)
    return kept


def multi_field_searches(
    searches: list[dict[str, Any]], metadata: list[dict[str, Any]], reference_genomes: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """A search over a `perSegment` field names the field once per segment (segmented organisms)."""
    per_segment = {item["name"] for item in metadata if item.get("perSegment")}
    segments, _ = segment_names(reference_genomes)
    segmented = len(segments) > 1
    rendered = []
    for search in searches:
        entry = {"name": search["name"], "displayName": search["displayName"]}
        if "orderInSearchDisplay" in search:
            entry["orderInSearchDisplay"] = search["orderInSearchDisplay"]
        entry["fields"] = [
            f"{name}_{segment}" if segmented and name in per_segment else name
            for name in search["fields"]
            for segment in (segments if segmented and name in per_segment else [None])
        ]
        rendered.append(entry)
    return rendered


def website_schema(organism: dict[str, Any], common: list[dict[str, Any]]) -> dict[str, Any]:
    """loculus-website-config.yaml, through _common-metadata.tpl "loculus.generateWebsiteConfig": one schema."""
    schema = patch_metadata_schema(organism["schema"])
    genomes = organism.get("referenceGenomes") or []
    rendered: dict[str, Any] = {"organismName": schema["organismName"]}
    if schema.get("linkOuts"):
        rendered["linkOuts"] = link_outs(schema)
    rendered["loadSequencesAutomatically"] = schema.get("loadSequencesAutomatically") or False
    if schema.get("richFastaHeaderFields"):
        rendered["richFastaHeaderFields"] = schema["richFastaHeaderFields"]
    rendered["submissionDataTypes"] = submission_data_types(schema)
    for key in ("image", "description"):
        if schema.get(key):
            rendered[key] = schema[key]
    rendered["primaryKey"] = "accessionVersion"
    rendered["inputFields"] = [*input_fields(schema), dict(VERSION_COMMENT_INPUT_FIELD)]
    if schema.get("files"):
        rendered["files"] = schema["files"]
    metadata = website_metadata([*common, *schema["metadata"]], genomes)
    for output in schema.get("files") or []:
        entry: dict[str, Any] = {"name": output["name"]}
        if output.get("displayName"):
            entry["displayName"] = output["displayName"]
        metadata.append(
            entry | {"type": "string", "header": "Files", "noInput": True, "customDisplay": {"type": "fileList"}}
        )
    rendered["metadata"] = metadata
    if schema.get("metadataTemplate"):
        rendered["metadataTemplate"] = schema["metadataTemplate"]
    website = schema.get("website") or {}
    rendered |= {key: value for key, value in website.items() if key != "multiFieldSearches"}
    if website.get("multiFieldSearches"):
        rendered["multiFieldSearches"] = multi_field_searches(
            website["multiFieldSearches"], [*common, *schema["metadata"]], genomes
        )
    return rendered


def processing_fields(schema: dict[str, Any], rendered: dict[str, Any]) -> list[Field]:
    """The input fields as the sandbox's processing reads them (sandbox/processing.py).

    `id`, `fastaIds` and `versionComment` are not metadata the pipeline processes. A field the pipeline
    parses with a date function gets the date rules (type "date"), as Loculus's sampleCollectionDate
    is a string in the schema but parsed by `parse_date_into_range`."""
    by_name = {item["name"]: item for item in patch_metadata_schema(schema)["metadata"]}
    fields = []
    for item in rendered["inputFields"]:
        if item["name"] in ("id", "fastaIds", "versionComment"):
            continue
        source = by_name.get(item["name"], {})
        function = (source.get("preprocessing") or {}).get("function")
        fields.append(
            Field(
                item["name"],
                item.get("displayName", item["name"]),
                type="date" if function in DATE_FUNCTIONS else source.get("type") or "string",
                header=source.get("header"),
                definition=item.get("definition", ""),
                guidance=item.get("guidance"),
                example=str(item.get("example", "")),
                required=bool(item.get("required")),
                desired=bool(item.get("desired")),
                options=tuple(option["name"] for option in item.get("options") or []),
            )
        )
    return fields


def organism_from_values(key: str, organism: dict[str, Any], common: list[dict[str, Any]]) -> Organism:
    rendered = website_schema(organism, common)
    data_types = rendered["submissionDataTypes"]
    files = data_types.get("files") or {}
    categories = tuple(
        (category["name"], category.get("displayName") or category["name"])
        for category in (files.get("categories") or [] if files.get("enabled") else [])
    )
    return Organism(
        key=key,
        display_name=rendered["organismName"],
        consensus_sequences=bool(data_types["consensusSequences"]),
        segments=tuple(merged_nucleotide_sequences(organism.get("referenceGenomes") or [])),
        file_categories=categories,
        fields=processing_fields(organism["schema"], rendered),
        max_sequences_per_entry=data_types.get("maxSequencesPerEntry"),
        rendered_schema=rendered,
        rendered_reference_genomes=organism.get("referenceGenomes") or [],
    )


def helm_organisms(values: dict[str, Any] | None = None) -> dict[str, Organism]:
    """The generated organisms, in Helm's order (sorted by key)."""
    values = values or load_values()
    common = common_metadata(values)
    return {
        key: organism_from_values(key, organism, common)
        for key, organism in enabled_organisms(values)
        if key in HELM_ORGANISM_KEYS
    }
