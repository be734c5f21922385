"""Parsing ComfyUI workflows: both UI schemas, the API format, PNG carriers, and hostile JSON."""

import io
import json
import re
import time

import pytest

from resources.workflow_svg import render_svg
from resources.workflows import (
    MAX_NODES,
    WorkflowRejected,
    graph_context,
    parse_workflow,
    read_workflow_text,
)

from .workflow_samples import api_format, big_ui, dumps, png_with, ui_04, ui_1, webp_with


def needed(summary) -> set[tuple]:
    return {(m["node_id"], m["filename"], m["kind"]) for m in summary["models"]}


def test_ui_04_summary_counts_nodes_links_with_both_ends_groups_and_needed_models():
    summary = parse_workflow(dumps(ui_04()))["summary"]
    assert (summary["format"], summary["nodes"], summary["links"], summary["groups"]) == ("ui", 9, 9, 1)
    assert needed(summary) == {
        (
            "4",
            "SDXL\\sd_xl_base_1.0.safetensors",
            "checkpoints",
        ),  # the widget and its models[] hint: one entry
        ("6", "easynegative.pt", "embeddings"),
        ("11", "4x-UltraSharp.pth", "unknown"),  # custom node: found by its model extension
        (None, "4x-UltraSharp.pth", "upscale_models"),  # the top-level models[] hint
    }
    # The bypassed LoraLoader (mode 4) is not needed to run the graph.
    assert not any("bypassed" in m["filename"] for m in summary["models"])
    assert summary["custom_node_types"] == ["UltimateSDUpscale"]
    assert summary["custom_node_packs"] == ["comfyui_ultimatesdupscale"]


def test_ui_1_object_links_string_slots_and_object_widget_values():
    parsed = parse_workflow(dumps(ui_1()))
    summary = parsed["summary"]
    assert (summary["format"], summary["nodes"], summary["links"]) == ("ui", 3, 2)
    assert needed(summary) == {
        ("1", "flux1-dev.safetensors", "diffusion_models"),
        ("2", "flux/detail_tweaker.safetensors", "loras"),
        ("3", "other.ckpt", "unknown"),
    }
    assert summary["custom_node_types"] == ["MyFancyNode"]
    assert summary["custom_node_packs"] == ["someone/comfyui-fancy"]
    assert parsed["layout"]["links"] == [["1", 0, "2", 0], ["2", 0, "3", 0]]


def test_api_format_gets_a_layered_layout_left_to_right():
    parsed = parse_workflow(dumps(api_format()))
    summary = parsed["summary"]
    assert (summary["format"], summary["nodes"], summary["links"]) == ("api", 8, 9)
    assert needed(summary) == {
        ("4", "sd_xl_base_1.0.safetensors", "checkpoints"),
        ("7", "bad_hands", "embeddings"),
        ("10", "ip-adapter_sdxl.safetensors", "unknown"),
    }
    assert summary["custom_node_types"] == ["IPAdapterModelLoader"]
    x = {n[0]: n[2] for n in parsed["layout"]["nodes"]}
    # Every link goes from a column to a later one: loader < prompts < sampler < decode < save.
    assert x["4"] < x["6"] < x["3"] < x["8"] < x["9"]
    titles = {n[0]: n[1] for n in parsed["layout"]["nodes"]}
    assert titles["4"] == "Load Checkpoint" and titles["3"] == "KSampler"


def test_a_png_carries_the_workflow_chunk_and_falls_back_to_the_prompt_chunk():
    png = png_with({"prompt": json.dumps(api_format()), "workflow": json.dumps(ui_04())})
    assert parse_workflow(read_workflow_text(io.BytesIO(png)))["summary"]["format"] == "ui"
    only_prompt = png_with({"prompt": json.dumps(api_format())})
    assert parse_workflow(read_workflow_text(io.BytesIO(only_prompt)))["summary"]["format"] == "api"
    assert read_workflow_text(io.BytesIO(png_with({"parameters": "a fox\nSteps: 20"}))) is None


def test_the_svg_has_every_node_and_every_link_with_both_ends():
    for workflow in (ui_04(), ui_1(), api_format()):
        parsed = parse_workflow(dumps(workflow))
        svg = str(render_svg(parsed["layout"]))
        ids = re.findall(r'data-node-id="([^"]*)"', svg)
        assert sorted(ids) == sorted(n[0] for n in parsed["layout"]["nodes"])
        assert svg.count('class="wf-link"') == parsed["summary"]["links"]
    svg = str(render_svg(parse_workflow(dumps(ui_04()))["layout"]))
    assert 'class="wf-group"' in svg and ">Prompts<" in svg
    assert 'fill="#533"' in svg  # a valid colour is used


@pytest.mark.parametrize(
    "title",
    [
        "<script>alert(1)</script>",
        '"><svg onload=alert(1)>',
        "</text></g></svg><img src=x onerror=alert(1)>",
        "javascript:alert(1)",
        "]]><foreignObject><iframe src=javascript:alert(1)>",
    ],
)
def test_markup_in_titles_filenames_and_widgets_comes_out_as_text(title):
    workflow = ui_04(title=title)
    workflow["nodes"][1]["widgets_values"] = [title]
    workflow["groups"][0]["title"] = title
    svg = str(render_svg(parse_workflow(dumps(workflow))["layout"]))
    assert "<script" not in svg and "<svg onload" not in svg and "<img" not in svg and "<iframe" not in svg
    assert "<foreignObject" not in svg
    assert svg.count("<svg") == 1 and svg.count("</svg>") == 1
    assert "href" not in svg  # nothing from the file becomes a link


def test_colours_are_used_only_when_they_are_hex():
    workflow = ui_04()
    workflow["nodes"][3]["color"] = "red; background:url(javascript:alert(1))"
    workflow["nodes"][3]["bgcolor"] = '#fff" onmouseover="alert(1)'
    workflow["groups"][0]["color"] = "url(#x)"
    svg = str(render_svg(parse_workflow(dumps(workflow))["layout"]))
    assert "javascript" not in svg and "onmouseover" not in svg and "url(" not in svg


def test_node_ids_may_be_strings_and_positions_junk_and_filenames_paths():
    workflow = ui_1()
    workflow["nodes"][0]["id"] = "a-1"
    workflow["nodes"][0]["pos"] = ["x", None]
    workflow["nodes"][0]["widgets_values"] = ["../../etc/passwd.safetensors", "default"]
    workflow["links"][0]["origin_id"] = "a-1"
    parsed = parse_workflow(dumps(workflow))
    assert parsed["summary"]["links"] == 2
    assert ("a-1", "../../etc/passwd.safetensors", "diffusion_models") in needed(parsed["summary"])


def test_deep_json_is_refused_with_a_sentence():
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(WorkflowRejected, match="nested too deeply"):
        parse_workflow(deep)
    moderately = {"nodes": [], "links": [], "version": 0.4, "extra": {}}
    inner = moderately["extra"]
    for _ in range(100):
        inner["x"] = {}
        inner = inner["x"]
    with pytest.raises(WorkflowRejected, match="nested too deeply"):
        parse_workflow(json.dumps(moderately))


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(constant):
    text = dumps(ui_1()).decode().replace('"pos": [0, 0]', f'"pos": [{constant}, 0]', 1)
    assert constant in text
    with pytest.raises(WorkflowRejected, match="not valid JSON"):
        parse_workflow(text)


def test_a_20000_node_graph_is_refused_quickly_with_a_sentence():
    text = dumps(big_ui(20_000))
    started = time.monotonic()
    with pytest.raises(WorkflowRejected, match=f"20,000 nodes; the hub accepts at most {MAX_NODES:,}"):
        parse_workflow(text)
    assert time.monotonic() - started < 5


def test_a_5000_node_graph_is_accepted():
    parsed = parse_workflow(dumps(big_ui(5_000)))
    assert (parsed["summary"]["nodes"], parsed["summary"]["links"]) == (5_000, 4_999)
    assert len(parsed["summary"]["models"]) == 500  # capped list


@pytest.mark.parametrize(
    "text, message",
    [
        ("not json at all", "not valid JSON"),
        ('{"a": 1}', "not a ComfyUI workflow"),
        ("[1, 2, 3]", "not a ComfyUI workflow"),
        ('{"nodes": "many"}', "not a ComfyUI workflow"),
    ],
)
def test_json_that_is_not_a_workflow_is_refused_with_a_sentence(text, message):
    with pytest.raises(WorkflowRejected, match=message):
        parse_workflow(text)


def test_a_png_whose_workflow_chunk_is_not_json_gives_a_sentence():
    text = read_workflow_text(io.BytesIO(png_with({"workflow": "{not json"})))
    with pytest.raises(WorkflowRejected, match="The workflow is not valid JSON"):
        parse_workflow(text)


def test_graph_context_for_an_image_answers_an_error_sentence_not_an_exception(db):
    assert graph_context("{broken")["error"].startswith("The workflow is not valid JSON")
    context = graph_context(json.dumps(api_format()))
    assert context["summary"]["nodes"] == 8 and 'data-node-id="4"' in context["svg"]
    assert all(m["resolved"] is None for m in context["summary"]["models"])


def test_a_webp_carries_the_workflow_in_exif_as_comfyui_writes_it():
    webp = webp_with({0x010F: "workflow:" + json.dumps(ui_1()), 0x0110: "prompt:" + json.dumps(api_format())})
    assert parse_workflow(read_workflow_text(io.BytesIO(webp)))["summary"]["nodes"] == 3
    only_prompt = webp_with({0x0110: "prompt:" + json.dumps(api_format())})
    assert parse_workflow(read_workflow_text(io.BytesIO(only_prompt)))["summary"]["format"] == "api"
    assert read_workflow_text(io.BytesIO(webp_with({0x010F: "Canon"}))) is None
    damaged = webp.replace(b"EXIF", b"EXIF", 1)[:40] + b"\x00" * 20
    assert read_workflow_text(io.BytesIO(damaged)) is None


def test_the_graph_template_draws_graph_context_or_shows_its_sentence(db):
    from django.template.loader import render_to_string

    html = render_to_string("resources/workflows/_graph.html", graph_context(json.dumps(api_format())))
    assert html.count("data-node-id=") == 8 and "not on this hub" in html
    html = render_to_string("resources/workflows/_graph.html", graph_context('{"nodes": 1}'))
    assert "This JSON is not a ComfyUI workflow" in html and "<svg" not in html


JUNK = [None, True, 10**400, -1e308, "x", "", [], {}, [None, "a"], {"0": "a"}, [[[[]]]], "\x00\ud800"]


def test_junk_of_every_type_in_every_field_gives_a_graph_or_a_sentence_never_an_exception():
    base = ui_04()
    fields = set().union(*(node.keys() for node in base["nodes"]))
    for junk in JUNK:
        for field in fields:
            workflow = ui_04()
            for node in workflow["nodes"]:
                node[field] = junk
            _parses_or_refuses(workflow)
        for key in ("links", "groups", "models", "definitions", "version", "nodes", "extra"):
            workflow = ui_04()
            workflow[key] = junk
            _parses_or_refuses(workflow)
        workflow = ui_04()
        workflow["links"] = [junk, [junk] * 6, {"origin_id": junk, "target_id": 4}]
        workflow["groups"] = [{"title": junk, "bounding": [junk] * 4, "color": junk}]
        workflow["definitions"] = {"subgraphs": [{"id": junk}, junk]}
        _parses_or_refuses(workflow)
        api = api_format()
        api["3"]["inputs"]["model"] = [junk, junk]
        api["4"]["inputs"]["ckpt_name"] = junk
        api["4"]["_meta"] = junk
        _parses_or_refuses(api)


def _parses_or_refuses(workflow):
    try:
        text = json.dumps(workflow)
    except ValueError:
        return  # 10**400 is valid JSON for json.dumps only up to Python's digit limit
    try:
        parsed = parse_workflow(text)
    except WorkflowRejected as exc:
        assert str(exc).endswith(".")
        return
    render_svg(parsed["layout"])
    json.dumps(parsed)
