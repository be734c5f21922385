"""Wildcard files as creators upload them, crafted here: .txt, .json, .yaml and .zip packs, and the hostile ones."""

import io
import json
import stat
import time
import zipfile

import pytest

from resources import wildcards
from resources.wildcards import WildcardError, read_pack


def make_zip(members: dict[str, bytes], *, symlinks=(), compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = compression
            if name in symlinks:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, content)
    return buffer.getvalue()


def test_a_txt_file_is_one_list_named_after_the_file_without_comments_or_blank_lines():
    data = "\ufeff# colours I like\nred\n\n  blue  \n#green\nsea green\n".encode()
    assert read_pack(data, "colors.txt") == {"colors": ["red", "blue", "sea green"]}


def test_json_and_yaml_keys_are_names_and_nested_mappings_become_nested_names():
    doc = {"animal": ["cat", "dog"], "style": {"paint": ["oil", "ink"], "lens": {"wide": ["24mm"]}}}
    expected = {"animal": ["cat", "dog"], "style/paint": ["oil", "ink"], "style/lens/wide": ["24mm"]}
    assert read_pack(json.dumps(doc).encode(), "pack.json") == expected
    yaml_text = "animal:\n  - cat\n  - dog\nstyle:\n  paint: [oil, ink]\n  lens:\n    wide: [24mm]\n"
    assert read_pack(yaml_text.encode(), "pack.yaml") == expected
    assert read_pack(yaml_text.encode(), "pack.yml") == expected


def test_a_zip_pack_makes_nested_folders_nested_names():
    data = make_zip(
        {
            "animals.txt": b"cat\ndog\n",
            "styles/": b"",
            "styles/paint.txt": b"oil\nink\n",
            "styles/more/lens.yaml": b"wide: [24mm, 35mm]\n",
            "README.md": b"ignored",
        }
    )
    assert read_pack(data, "pack.zip") == {
        "animals": ["cat", "dog"],
        "styles/paint": ["oil", "ink"],
        "styles/more/wide": ["24mm", "35mm"],  # keys in .yaml/.json: no file-name prefix
    }


@pytest.mark.parametrize(
    "member, words",
    [
        ("../evil.txt", "outside the pack"),
        ("a/../../evil.txt", "outside the pack"),
        ("/etc/passwd.txt", "absolute"),
        ("a\\b.txt", "absolute or Windows"),
        ("C:/x.txt", "absolute or Windows"),
        ("inner.zip", "nested archives"),
    ],
)
def test_zip_slip_and_nested_archives_are_refused_naming_the_entry(member, words):
    with pytest.raises(WildcardError, match=words):
        read_pack(make_zip({"ok.txt": b"a\n", member: b"x\n"}), "pack.zip")


def test_a_nul_in_a_zip_entry_name_is_refused():
    # zipfile would cut the name at the NUL ("evil.txt"); the bytes are patched after writing.
    data = make_zip({"ok.txt": b"a", "evil.txtX.png": b"x"}).replace(b"evil.txtX.png", b"evil.txt\x00.png")
    with pytest.raises(WildcardError, match="NUL character"):
        read_pack(data, "pack.zip")


def test_a_symlink_in_a_zip_is_refused():
    with pytest.raises(WildcardError, match="symbolic link"):
        read_pack(make_zip({"link.txt": b"/etc/passwd", "ok.txt": b"a"}, symlinks={"link.txt"}), "pack.zip")


def test_a_zip_bomb_is_refused_without_unpacking_it_all():
    bomb = make_zip({f"b{i}.txt": b"a\n" * (3 * 1024**2) for i in range(8)})  # 48 MiB from ~100 KB
    assert len(bomb) < 1024**2
    started = time.monotonic()
    with pytest.raises(WildcardError, match="zip bomb"):
        read_pack(bomb, "bomb.zip")
    assert time.monotonic() - started < 5


def test_a_zip_whose_header_lies_about_sizes_is_read_with_the_cap():
    data = bytearray(
        make_zip({"big.txt": b"a\n" * (MAX := wildcards.MAX_FILE_BYTES)}, compression=zipfile.ZIP_DEFLATED)
    )
    # Claim a tiny uncompressed size in the central directory: the reader must not trust it.
    at = data.rfind(b"PK\x01\x02")
    data[at + 24 : at + 28] = (10).to_bytes(4, "little")
    with pytest.raises(WildcardError):
        read_pack(bytes(data), "liar.zip")
    assert MAX


def test_too_many_zip_entries_are_refused():
    with pytest.raises(WildcardError, match="entries"):
        read_pack(make_zip({f"l{i}.txt": b"a" for i in range(wildcards.MAX_ZIP_MEMBERS + 1)}), "many.zip")


def test_a_yaml_alias_bomb_is_refused_quickly():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        lines.append(
            f"{chr(97 + i)}: &{chr(97 + i)} [*{chr(96 + i)},*{chr(96 + i)},*{chr(96 + i)},*{chr(96 + i)}]"
        )
    started = time.monotonic()
    with pytest.raises(WildcardError, match="aliases"):
        read_pack("\n".join(lines).encode(), "bomb.yaml")
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    "name, data, words",
    [
        ("x.yaml", b"!!python/object/apply:os.system ['echo pwned']", "not valid YAML"),
        ("x.yaml", b"[" * 50_000, "nests too deeply|not valid YAML"),
        ("x.json", b"[" * 50_000, "nests too deeply|not valid JSON"),
        ("x.json", b'{"a": [NaN]}', "not valid JSON"),
        ("x.json", b'["a", "b"]', "mapping of names"),
        ("x.json", b'{"a": [{"b": 1}]}', "not text"),
        ("x.json", b'{"../up": ["a"]}', "not a usable wildcard name"),
        ("x.json", b'{"a*": ["a"]}', "not a usable wildcard name"),
        ("x.txt", b"# only a comment\n\n", "no wildcard lists"),
        ("x.txt", b"a" * (wildcards.MAX_VALUE_CHARS + 1), "Line 1 of x.txt"),
        ("x.exe", b"a", "not a wildcard file"),
    ],
)
def test_bad_files_are_refused_with_a_sentence(name, data, words):
    with pytest.raises(WildcardError, match=words):
        read_pack(data, name)


def test_nul_and_broken_utf8_are_cleaned_not_fatal():
    assert read_pack(b"re\x00d\n\xff\xfeblue\n", "c.txt") == {"c": ["red", "\ufffd\ufffdblue"]}


def test_cycles_are_refused_naming_them():
    with pytest.raises(WildcardError, match="__a__ → __a__"):
        read_pack(b"x\n__a__\n", "a.txt")
    doc = {"a": ["__b__"], "b": ["x __c__"], "c": ["{y|__a__}"]}
    with pytest.raises(WildcardError, match="__a__ → __b__ → __c__ → __a__"):
        read_pack(json.dumps(doc).encode(), "p.json")
    with pytest.raises(WildcardError, match="cycle"):  # through a glob
        read_pack(json.dumps({"col1": ["__col*__"], "col2": ["x"]}).encode(), "p.json")


def test_a_long_chain_of_lists_is_refused_but_a_short_one_is_fine():
    chain = {f"l{i}": [f"__l{i + 1}__"] for i in range(40)} | {"l40": ["end"]}
    with pytest.raises(WildcardError, match="levels deep"):
        read_pack(json.dumps(chain).encode(), "chain.json")
    assert read_pack(json.dumps({"a": ["__b__"], "b": ["x"]}).encode(), "ok.json")


def test_list_caps():
    with pytest.raises(WildcardError, match="values; the limit"):
        read_pack(b"x\n" * (wildcards.MAX_VALUES + 1), "big.txt")
