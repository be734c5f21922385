"""The hash set that tools use to find a file, checked against DESIGN.md's vectors."""

import io
import struct

import pytest

from models_app.demo import make_safetensors
from models_app.hashing import file_hashes

F32 = struct.pack("<4f", 1.0, 2.0, 3.0, 4.0)
T1 = make_safetensors([("w", "F32", (2, 2), F32)], {"ss_network_dim": "4"})
T2 = make_safetensors([("w", "F32", (2, 2), F32)], {"ss_network_dim": "4", "modelspec.title": "x"})
T3 = make_safetensors([("big", "U8", (0x200000,), bytes(i % 251 for i in range(0x200000)))])


def data_start(blob: bytes) -> int:
    return 8 + struct.unpack("<Q", blob[:8])[0]


VECTORS = {
    "T1": (
        T1,
        {
            "SHA256": "5EBD52F5D203F0C467764D70C22764C48DC0AFA011A10B9F1B5ED915831C5C0B",
            "AutoV2": "5EBD52F5D2",
            "AutoV1": "E3B0C442",
            "AutoV3": "AD73B9ACD6E4",
            "AutoV3_full": "AD73B9ACD6E4A74B2F5BB5386658CE3BB146CD040A1867646AB3B973FB6632B1",
            "CRC32": "BDF8D937",
            "BLAKE3": "93415E4F417FCD8D40625F0D5405A48BFEA47D0275523A82F3D8BB06C1340887",
        },
    ),
    "T2": (
        T2,
        {
            "SHA256": "6F2C86DBA83ABD51626852EB5FBDE0DDE2CA6CACFE04614575B1F2E8BA14B9AC",
            "AutoV2": "6F2C86DBA8",
            "AutoV1": "E3B0C442",
            "AutoV3": "AD73B9ACD6E4",
            "AutoV3_full": "AD73B9ACD6E4A74B2F5BB5386658CE3BB146CD040A1867646AB3B973FB6632B1",
            "CRC32": "95B41A21",
            "BLAKE3": "EA0991F752C283680464CA966468D0D7007A13D7D62ADCD6EA1E52B90AAFB542",
        },
    ),
    "T3": (
        T3,
        {
            "SHA256": "72C05E8D79FA8E93C508A751CDD48B3ED422C26C7E3A8BE6BF24C593A3C239A0",
            "AutoV2": "72C05E8D79",
            "AutoV1": "F59EAE63",
            "AutoV3": "1E075C8D478A",
            "AutoV3_full": "1E075C8D478AD21844E33E830A695EF03A4D2488B69EE275BD8947618BB1BE1E",
            "CRC32": "464179D9",
            "BLAKE3": "6FC00D267096C9CA7F70DACD8C3289C5D702219AA7C56AD7F7B53F302D1EDC4A",
        },
    ),
}


def test_vector_files_have_the_documented_layout():
    assert len(T1) == 120 and T1[:8].hex() == "6000000000000000"
    assert T1[-16:].hex() == "0000803f000000400000404000008040"
    assert (len(T2), len(T3)) == (144, 2_097_232)


@pytest.mark.parametrize("name", VECTORS)
def test_safetensors_vectors_give_every_documented_hash(name):
    blob, expected = VECTORS[name]
    assert file_hashes(io.BytesIO(blob), data_start=data_start(blob)) == expected


@pytest.mark.parametrize("chunk_size", [1, 7, 64, 1000, 65537])
def test_hashes_do_not_depend_on_the_chunk_size(chunk_size):
    blob, expected = VECTORS["T3"] if chunk_size > 1 else VECTORS["T1"]
    assert file_hashes(io.BytesIO(blob), data_start=data_start(blob), chunk_size=chunk_size) == expected


def test_plain_bytes_have_no_autov3():
    hashes = file_hashes(io.BytesIO(b"hello world"))
    assert hashes == {
        "SHA256": "B94D27B9934D3E08A52E52D7DA7DABFAC484EFE37A5380EE9088F7ACE2EFCDE9",
        "AutoV1": "E3B0C442",
        "AutoV2": "B94D27B993",
        "CRC32": "0D4A1185",
        "BLAKE3": "D74981EFA70A0C880B8D8C1985D075DBCBF679B99A5F9914E5AAF96B831A9E24",
    }


def test_empty_file_hashes_to_the_empty_digests():
    hashes = file_hashes(io.BytesIO(b""))
    assert hashes["SHA256"] == "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
    assert hashes["CRC32"] == "00000000"
    assert hashes["BLAKE3"] == "AF1349B9F5F9A1A6A0404DEA36DCC9499BCB25C9ADC112B7CC9A93CAE41F3262"
