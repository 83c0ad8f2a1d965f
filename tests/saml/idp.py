#!/usr/bin/env python3
"""A real SAML 2.0 identity provider for roster's tests: pysaml2 signing with Debian's xmlsec1.

It signs with the TEST-ONLY key and certificate beside this file (idp.key, idp.crt).

Commands:
  metadata                    print the IdP's metadata (EntityDescriptor with IDPSSODescriptor)
  response ...                print a base64 SAMLResponse, as an IdP POSTs it to the ACS
  parse-request URL           decode an HTTP-Redirect AuthnRequest URL and print it as JSON;
                              with --sp-cert the signature over the query is verified too
  fixtures --out DIR          write the fixtures that crates/saml's tests read
  serve --port N              run as a web IdP on 127.0.0.1:N for browser tests: GET /metadata,
                              GET /sso (HTTP-Redirect AuthnRequest) shows a sign-in form (email,
                              groups) whose answer posts the signed Response to the SP's ACS

Requires: pip install pysaml2; apt-get install xmlsec1.
"""

import argparse
import functools
import warnings
import base64
import json
import os
import sys
import time
from urllib.parse import parse_qs, unquote_plus, urlsplit

# pysaml2 warns about a cipher mode it never uses here; keep stderr for real errors.
warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", message=".*CFB.*")

import saml2.entity
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.attribute_converter import AttributeConverter
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.s_utils import decode_base64_and_inflate
from saml2.saml import NAME_FORMAT_BASIC, NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.samlp import authn_request_from_string
from saml2.saml import AUTHN_PASSWORD_PROTECTED
from saml2.server import Server
from saml2.sigver import RSACrypto, get_xmlsec_binary, pre_encryption_part, verify_redirect_signature
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ENTITY_ID = "https://idp.test/metadata"
DEFAULT_SSO_URL = "https://idp.test/sso"


# --enc-alg: EncryptionMethod URI and xmlsec1's --session-key type. pysaml2 alone always uses 3DES,
# which roster refuses, so this script defaults to AES-256-CBC.
ENC_ALGS = {
    "aes128-cbc": ("http://www.w3.org/2001/04/xmlenc#aes128-cbc", "aes-128"),
    "aes256-cbc": ("http://www.w3.org/2001/04/xmlenc#aes256-cbc", "aes-256"),
    "aes128-gcm": ("http://www.w3.org/2009/xmlenc11#aes128-gcm", "aes-128"),
    "aes256-gcm": ("http://www.w3.org/2009/xmlenc11#aes256-gcm", "aes-256"),
    "3des-cbc": ("http://www.w3.org/2001/04/xmlenc#tripledes-cbc", "des-192"),  # roster refuses it
}


def use_encryption_algorithm(idp, name):
    """pysaml2 hard-codes 3DES; swap in the chosen data-encryption algorithm."""
    uri, session_key = ENC_ALGS[name]
    saml2.entity.pre_encryption_part = functools.partial(pre_encryption_part, msg_enc=uri)
    encrypt = idp.sec.encrypt_assertion

    def encrypt_with(statement, enc_key, template, key_type=None, node_xpath=None):
        return encrypt(statement, enc_key, template, key_type=session_key, node_xpath=node_xpath)

    idp.sec.encrypt_assertion = encrypt_with


def sp_metadata(sp_entity_id, acs, cert_pem=None):
    """Minimal SP metadata for pysaml2 to know the SP (and its encryption key when given)."""
    key_descriptor = ""
    if cert_pem:
        b64 = "".join(line for line in cert_pem.strip().splitlines() if "-----" not in line)
        key_descriptor = (
            '<md:KeyDescriptor use="encryption"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
            f"<ds:X509Data><ds:X509Certificate>{b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
            "</md:KeyDescriptor>"
        )
    return (
        f'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{sp_entity_id}">'
        '<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f"{key_descriptor}"
        f"<md:NameIDFormat>{NAMEID_FORMAT_EMAILADDRESS}</md:NameIDFormat>"
        f'<md:AssertionConsumerService Binding="{BINDING_HTTP_POST}" Location="{acs}" index="0"/>'
        "</md:SPSSODescriptor></md:EntityDescriptor>"
    )


def idp_server(entity_id, sso_url, sp_md=None, lifetime_minutes=5):
    conf = IdPConfig()
    config = {
        "entityid": entity_id,
        "key_file": os.path.join(HERE, "idp.key"),
        "cert_file": os.path.join(HERE, "idp.crt"),
        "xmlsec_binary": get_xmlsec_binary(["/usr/bin"]),
        "service": {
            "idp": {
                "endpoints": {
                    "single_sign_on_service": [
                        (sso_url, BINDING_HTTP_REDIRECT),
                        (sso_url, BINDING_HTTP_POST),
                    ],
                },
                "policy": {
                    "default": {
                        "lifetime": {"minutes": lifetime_minutes},
                        "attribute_restrictions": None,
                        "name_form": NAME_FORMAT_BASIC,
                    }
                },
            }
        },
    }
    if sp_md:
        config["metadata"] = {"inline": [sp_md]}
    conf.load(config)
    idp = Server(config=conf)
    # Keep attribute names verbatim (pysaml2 would otherwise rename "email" to an OID-style name).
    converter = AttributeConverter(NAME_FORMAT_BASIC)
    converter._to = {}
    converter._fro = {}
    idp.config.attribute_converters = [converter]
    return idp


def make_response(args):
    """Return the SAMLResponse XML text for the options given."""
    sp_cert = read_optional(args.encrypt_for)
    if args.sp_metadata:
        with open(args.sp_metadata) as f:
            sp_md = f.read()
    else:
        sp_md = sp_metadata(args.sp_entity_id, args.acs, sp_cert)
    idp = idp_server(args.entity_id, args.sso_url, sp_md, args.lifetime_minutes)
    use_encryption_algorithm(idp, args.enc_alg)
    identity = {}
    for name, values in (
        (args.email_attr, [args.email] if args.email else []),
        (args.first_name_attr, [args.first_name] if args.first_name else []),
        (args.last_name_attr, [args.last_name] if args.last_name else []),
        (args.groups_attr, args.group),
    ):
        if values:
            identity[name] = values
    for pair in args.attribute:
        name, _, value = pair.partition("=")
        identity.setdefault(name, []).append(value)
    sign = args.sign
    sha1 = args.sha1
    resp = idp.create_authn_response(
        identity,
        in_response_to=args.in_response_to,
        destination=args.acs,
        sp_entity_id=args.sp_entity_id,
        name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=args.name_id or args.email),
        authn={"class_ref": AUTHN_PASSWORD_PROTECTED},
        sign_response=sign in ("response", "both"),
        sign_assertion=sign in ("assertion", "both"),
        encrypt_assertion=bool(sp_cert),
        encrypt_cert_assertion=sp_cert,
        sign_alg=SIG_RSA_SHA1 if sha1 else SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA1 if sha1 else DIGEST_SHA256,
    )
    return str(resp)


def read_optional(path):
    if not path:
        return None
    with open(path) as f:
        return f.read()


def cmd_metadata(args):
    idp = idp_server(args.entity_id, args.sso_url)
    print(str(entity_descriptor(idp.config)))


def cmd_response(args):
    xml = make_response(args)
    if args.xml:
        print(xml)
    else:
        print(base64.b64encode(xml.encode()).decode())


def cmd_parse_request(args):
    """Decode an AuthnRequest sent by HTTP-Redirect; verify its signature when a cert is given."""
    query = urlsplit(args.url).query
    # pysaml2 wants single values; parse_qs decodes them the way it re-encodes them for verifying.
    message = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
    if "SAMLRequest" not in message:
        fail("the URL has no SAMLRequest parameter")
    xml = decode_base64_and_inflate(message["SAMLRequest"]).decode()
    request = authn_request_from_string(xml)
    if request is None:
        fail("SAMLRequest is not an AuthnRequest")
    out = {
        "id": request.id,
        "issuer": request.issuer.text if request.issuer is not None else None,
        "issue_instant": request.issue_instant,
        "destination": request.destination,
        "acs_url": request.assertion_consumer_service_url,
        "protocol_binding": request.protocol_binding,
        "relay_state": message.get("RelayState"),
        "sig_alg": message.get("SigAlg"),
        "signed": "Signature" in message,
        "signature_valid": None,
        "xml": xml,
    }
    if args.sp_cert:
        if "Signature" not in message:
            out["signature_valid"] = False
        else:
            cert = read_optional(args.sp_cert)
            body = "".join(line for line in cert.strip().splitlines() if "-----" not in line)
            out["signature_valid"] = bool(verify_redirect_signature(message, RSACrypto(None), cert=body))
            # pysaml2 re-encodes the parameters; also check the octets exactly as they were sent.
            out["raw_query_signature_valid"] = raw_query_signature_valid(query, cert)
    print(json.dumps(out, indent=2))
    if args.sp_cert and not (out["signature_valid"] and out.get("raw_query_signature_valid")):
        sys.exit(1)


def raw_query_signature_valid(query, cert_pem):
    """SAML bindings 3.4.4.1: the signature covers the parameters as they appear in the URL."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    parts = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
    signed = "&".join(f"{k}={parts[k]}" for k in ("SAMLRequest", "RelayState", "SigAlg") if k in parts)
    algs = {
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": hashes.SHA256(),
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1": hashes.SHA1(),
    }
    alg = algs.get(unquote_plus(parts.get("SigAlg", "")))
    if alg is None:
        return False
    key = x509.load_pem_x509_certificate(cert_pem.encode()).public_key()
    try:
        key.verify(base64.b64decode(unquote_plus(parts["Signature"])), signed.encode(), padding.PKCS1v15(), alg)
        return True
    except InvalidSignature:
        return False


FIXTURE_SP = "https://roster.test/saml/sp"
FIXTURE_ACS = "https://roster.test/saml/acs"


def cmd_fixtures(args):
    """Write the fixtures crates/saml reads; `now` is recorded so tests never depend on the clock."""
    os.makedirs(args.out, exist_ok=True)
    parser = build_parser()
    base = [
        "response", "--sp-entity-id", FIXTURE_SP, "--acs", FIXTURE_ACS,
        "--email", "alice@example.com", "--first-name", "Alice", "--last-name", "Liddell",
        "--group", "engineering", "--group", "admins", "--xml",
    ]
    sp_cert = args.sp_cert
    variants = {
        "response_signed_both.xml": ["--sign", "both", "--in-response-to", "_req-fixture-1"],
        "response_signed_response.xml": ["--sign", "response"],
        "response_signed_assertion.xml": ["--sign", "assertion"],
        "response_unsigned.xml": ["--sign", "none"],
        "response_sha1.xml": ["--sign", "both", "--sha1"],
        "response_encrypted_signed_assertion.xml": ["--sign", "assertion", "--encrypt-for", sp_cert],
        "response_encrypted_signed_response.xml": [
            "--sign", "response", "--encrypt-for", sp_cert, "--enc-alg", "aes128-gcm"],
        # What anyone can make with the SP's public certificate: must be refused.
        "response_encrypted_unsigned.xml": ["--sign", "none", "--encrypt-for", sp_cert],
        "response_encrypted_3des.xml": ["--sign", "both", "--encrypt-for", sp_cert, "--enc-alg", "3des-cbc"],
    }
    manifest = {"now_unix": int(time.time()), "sp_entity_id": FIXTURE_SP, "acs_url": FIXTURE_ACS,
                "idp_entity_id": DEFAULT_ENTITY_ID, "lifetime_minutes": 5, "files": sorted(variants)}
    for name, extra in variants.items():
        with open(os.path.join(args.out, name), "w") as f:
            f.write(make_response(parser.parse_args(base + extra)))
    with open(os.path.join(args.out, "idp_metadata.xml"), "w") as f:
        f.write(str(entity_descriptor(idp_server(DEFAULT_ENTITY_ID, DEFAULT_SSO_URL).config)))
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


def cmd_serve(args):
    """A web IdP: the browser arrives with an AuthnRequest, 'signs in' by typing an email and
    groups, and is sent on to the ACS with the signed Response (HTTP-POST binding)."""
    import html
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs as parse

    parser = build_parser()

    class Handler(BaseHTTPRequestHandler):
        def answer(self, status, body, content_type="text/html; charset=utf-8"):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *a):
            pass

        def do_GET(self):
            url = urlsplit(self.path)
            if url.path == "/metadata":
                idp = idp_server(args.entity_id, args.sso_url)
                return self.answer(200, str(entity_descriptor(idp.config)), "application/samlmetadata+xml")
            if url.path != "/sso":
                return self.answer(404, "not found")
            q = {k: v[0] for k, v in parse(url.query).items()}
            if "SAMLRequest" not in q:
                return self.answer(400, "no SAMLRequest")
            request = authn_request_from_string(decode_base64_and_inflate(q["SAMLRequest"]).decode())
            hidden = {
                "id": request.id,
                "issuer": request.issuer.text,
                "acs": request.assertion_consumer_service_url,
                "relay_state": q.get("RelayState", ""),
            }
            fields = "".join(
                f'<input type="hidden" name="{k}" value="{html.escape(v or "")}">' for k, v in hidden.items()
            )
            self.answer(200, f"""<!doctype html><html><head><title>Test IdP sign-in</title></head><body>
<h1>Test identity provider</h1><p>Signing in to {html.escape(request.issuer.text)}</p>
<form method="post" action="/sso/login">{fields}
<label>Email <input name="email" type="email" required></label>
<label>Groups (comma-separated) <input name="groups"></label>
<button type="submit">Sign in at the IdP</button></form></body></html>""")

        def do_POST(self):
            if self.path != "/sso/login":
                return self.answer(404, "not found")
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse(self.rfile.read(length).decode()).items()}
            argv = ["response", "--sp-entity-id", form["issuer"], "--acs", form["acs"],
                    "--email", form["email"], "--in-response-to", form["id"],
                    "--first-name", form["email"].split("@")[0].split(".")[0].title()]
            for g in (x.strip() for x in form.get("groups", "").split(",")):
                if g:
                    argv += ["--group", g]
            response = make_response(parser.parse_args(["--entity-id", args.entity_id,
                                                        "--sso-url", args.sso_url] + argv))
            encoded = base64.b64encode(response.encode()).decode()
            relay = form.get("relay_state", "")
            relay_field = f'<input type="hidden" name="RelayState" value="{html.escape(relay)}">' if relay else ""
            self.answer(200, f"""<!doctype html><html><head><title>Signing in</title></head>
<body onload="document.forms[0].submit()"><form method="post" action="{html.escape(form["acs"])}">
<input type="hidden" name="SAMLResponse" value="{encoded}">{relay_field}
<noscript><button type="submit">Continue</button></noscript></form></body></html>""")

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"test IdP listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


def fail(message):
    print(f"idp.py: {message}", file=sys.stderr)
    sys.exit(2)


def build_parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--entity-id", default=DEFAULT_ENTITY_ID, help="the IdP's entity id")
    p.add_argument("--sso-url", default=DEFAULT_SSO_URL, help="the IdP's SSO endpoint in its metadata")
    sub = p.add_subparsers(dest="command", required=True)

    sub.add_parser("metadata", help="print the IdP metadata XML").set_defaults(func=cmd_metadata)

    r = sub.add_parser("response", help="print a base64 SAMLResponse")
    r.set_defaults(func=cmd_response)
    r.add_argument("--sp-entity-id", required=True)
    r.add_argument("--acs", required=True, help="the SP's ACS URL (Destination and Recipient)")
    r.add_argument("--sp-metadata", help="SP metadata file to load instead of a minimal inline one")
    r.add_argument("--email")
    r.add_argument("--first-name")
    r.add_argument("--last-name")
    r.add_argument("--group", action="append", default=[])
    r.add_argument("--attribute", action="append", default=[], metavar="NAME=VALUE", help="any other attribute")
    r.add_argument("--email-attr", default="Email")
    r.add_argument("--first-name-attr", default="FirstName")
    r.add_argument("--last-name-attr", default="LastName")
    r.add_argument("--groups-attr", default="Groups")
    r.add_argument("--name-id", help="NameID text (default: the email)")
    r.add_argument("--in-response-to", help="the AuthnRequest ID (omit for IdP-initiated)")
    r.add_argument("--sign", choices=["response", "assertion", "both", "none"], default="both")
    r.add_argument("--sha1", action="store_true", help="sign with rsa-sha1/sha1 (to test refusal)")
    r.add_argument("--lifetime-minutes", type=float, default=5,
                   help="NotOnOrAfter = now + this; negative gives an already expired response")
    r.add_argument("--encrypt-for", metavar="SP_CERT_PEM", help="encrypt the assertion for this SP certificate")
    r.add_argument("--enc-alg", choices=sorted(ENC_ALGS), default="aes256-cbc", help="data encryption algorithm")
    r.add_argument("--xml", action="store_true", help="print the XML instead of base64")

    q = sub.add_parser("parse-request", help="decode an HTTP-Redirect AuthnRequest URL")
    q.set_defaults(func=cmd_parse_request)
    q.add_argument("url")
    q.add_argument("--sp-cert", help="SP certificate PEM; verify the signature (exit 1 when invalid)")

    fx = sub.add_parser("fixtures", help="write crates/saml's test fixtures")
    fx.set_defaults(func=cmd_fixtures)
    fx.add_argument("--out", required=True)
    fx.add_argument("--sp-cert", default=os.path.join(HERE, "../../crates/saml/testdata/sp.crt"),
                    help="certificate to encrypt to (its key is crates/saml/testdata/sp.key)")
    sv = sub.add_parser("serve", help="run as a web IdP for browser tests")
    sv.add_argument("--port", type=int, required=True)
    sv.set_defaults(func=cmd_serve)
    return p


def main():
    args = build_parser().parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
