"""docs/openapi.yaml describes every route that exists, with the same method
and roles as src/api/routes.c, and no route that does not exist."""
import os
import re
import sys
import unittest

import yaml

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
ROLE_MACROS = {
    "ADMIN": {"admin"}, "STAFF": {"admin", "marketer"},
    "READ": {"admin", "marketer", "analyst"}, "FRONT": {"admin", "marketer", "pos"},
    "LOOKUP": {"admin", "marketer", "analyst", "pos"},
    "SELF": {"admin", "marketer", "analyst", "pos", "member"},
    "FD_ROLE_BIT(FD_ROLE_ANALYST)": {"analyst"}, "FD_ROLE_BIT(FD_ROLE_MEMBER)": {"member"},
    "0": set(),
}


def code_routes():
    text = open(os.path.join(ROOT, "src/api/routes.c")).read()
    routes = {}
    for method, path, roles in re.findall(r'\{"(\w+)", "([^"]+)", ([^,]+),', text):
        allowed = set()
        for part in roles.split("|"):
            allowed |= ROLE_MACROS[part.strip()]
        routes[(method, re.sub(r"\{\}", "{}", path))] = allowed
    return routes


def doc_routes():
    routes, path, method = {}, None, None
    for line in open(os.path.join(ROOT, "docs/openapi.yaml")):
        m = re.match(r"^  (/\S*):\s*$", line)
        if m:
            path = re.sub(r"\{[^}]+\}", "{}", m.group(1))
            continue
        m = re.match(r"^    (get|post|patch|put|delete):", line)
        if m and path:
            method = m.group(1).upper()
            routes[(method, path)] = set()
            continue
        m = re.match(r"^      x-roles: \[(.*)\]", line)
        if m and method:
            routes[(method, path)] = {r.strip() for r in m.group(1).split(",") if r.strip()}
    return routes


class OpenAPI(unittest.TestCase):
    def test_the_document_is_valid_yaml_with_every_reference_defined(self):
        text = open(os.path.join(ROOT, "docs/openapi.yaml")).read()
        doc = yaml.safe_load(text)
        self.assertEqual(doc["openapi"], "3.0.3")
        for ref in set(re.findall(r"\$ref: '#/components/(\w+)/(\w+)'", text)):
            self.assertIn(ref[1], doc["components"][ref[0]], ref)

    def test_every_route_documented_with_its_roles(self):
        code, doc = code_routes(), doc_routes()
        self.assertGreater(len(code), 20)
        self.assertEqual(sorted(code), sorted(doc))
        for route, roles in code.items():
            self.assertEqual(roles, doc[route], route)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        sys.argv.pop(1)  # ctest passes the binary; not needed here
    unittest.main(verbosity=2)
