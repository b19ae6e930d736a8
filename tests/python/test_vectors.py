"""Every vector of testdata/vectors/protocol.json gets the Go decoder's verdict.

Run: MOLTZAP_PY_PKG=DIR /usr/bin/python3 -m unittest test_vectors (in tests/python).
MOLTZAP_VECTORS overrides the vector file.
"""

import json
import os
import unittest

import _pkg  # noqa: F401  (sys.path)
import moltzap
from moltzap.validate import ValidationError

VECTORS = os.environ.get(
    "MOLTZAP_VECTORS", os.path.join(_pkg.HERE, "..", "..", "testdata", "vectors", "protocol.json")
)


class VectorTest(unittest.TestCase):
    def test_vectors(self) -> None:
        with open(VECTORS, encoding="utf-8") as f:
            vectors = json.load(f)["vectors"]
        self.assertGreater(len(vectors), 0)
        wrong = []
        for i, v in enumerate(vectors):
            dec = moltzap.DECODERS.get(v["type"])
            if dec is None:
                wrong.append(f"#{i} {v['type']}: no decoder")
                continue
            try:
                value = dec(v["json"])
                got, why = True, ""
            except ValidationError as e:
                got, why = False, str(e)
            if got != v["valid"]:
                wrong.append(f"#{i} {v['type']} want valid={v['valid']} got {got} {why}: {v['json'][:200]}")
                continue
            if got and hasattr(value, "to_json"):
                # Round trip: what we encode decodes again to the same value.
                again = dec(value.to_json())  # type: ignore[attr-defined]
                if again != value:
                    wrong.append(f"#{i} {v['type']}: round trip changed the value")
        self.assertEqual(wrong, [], f"{len(wrong)} of {len(vectors)} vectors disagree:\n" + "\n".join(wrong[:40]))

    def test_number_literals(self) -> None:
        dec = moltzap.decode_PageLimit
        self.assertEqual(dec("1.0"), 1)
        self.assertEqual(dec("1e2"), 100)
        self.assertEqual(dec("120e-1"), 12)
        for bad in ("1.5", "true", "1e-1", "0", "201", "1e99999999999999999999", '"1"'):
            with self.assertRaises(ValidationError, msg=bad):
                dec(bad)

    def test_error_pointer(self) -> None:
        with self.assertRaises(ValidationError) as cm:
            moltzap.MessagesSendParams.from_json(
                '{"taskId":"0190a1b2-0000-7000-8000-000000000004",'
                '"conversationId":"0190a1b2-0000-7000-8000-000000000004","parts":[{"type":"text","text":""}]}'
            )
        self.assertEqual(cm.exception.pointer, "/parts/0/text")
        self.assertEqual(cm.exception.constraint, "minLength")

    def test_duplicates_and_trailing_data(self) -> None:
        for doc in ('{"text":"a","text":"b","type":"text"}', '{"text":"a","type":"text"} x'):
            with self.assertRaises(ValidationError, msg=doc):
                moltzap.TextPart.from_json(doc)


if __name__ == "__main__":
    unittest.main()
