from hypothesis import given, settings
from hypothesis import strategies as st

from reliability.backup.sqlstream import ArchiveParser, _identifiers, _split_copy
from reliability.backups.tabledigest import TableDigest

SCRIPT = b"""--
-- PostgreSQL database dump
--

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

--
-- Name: platform; Type: DATABASE; Schema: -; Owner: reliability
--

CREATE DATABASE platform WITH TEMPLATE = template0 ENCODING = 'UTF8';

--
-- Name: tenants; Type: TABLE; Schema: public; Owner: reliability
--

CREATE TABLE public.tenants (id bigint NOT NULL, slug text NOT NULL);

--
-- Name: Odd Name; Type: TABLE; Schema: public; Owner: reliability
--

CREATE TABLE public."Odd Name" ("Col, A" integer, b text);

--
-- Data for Name: Odd Name; Type: TABLE DATA; Schema: public; Owner: reliability
--

COPY public."Odd Name" ("Col, A", b) FROM stdin;
1\tback\\\\slash
2\t\\N
\\.


--
-- Data for Name: tenants; Type: TABLE DATA; Schema: public; Owner: reliability
--

COPY public.tenants (id, slug) FROM stdin;
1\ttenant-001
2\ttenant-002

3\t\\\\.
\\.


--
-- PostgreSQL database dump complete
--

"""


def parse(chunks):
    parser = ArchiveParser()
    for chunk in chunks:
        parser.feed(chunk)
    return parser.close()


def expected_digest(lines):
    digest = TableDigest()
    digest.add_lines(lines)
    return digest.hexdigest


def test_script_gives_header_toc_tables_and_row_digests():
    report = parse([SCRIPT])
    assert report.dbname == "platform"
    assert report.server_version.startswith("15.18") and report.pg_dump_version.startswith("15.18")
    assert report.toc == {"DATABASE": 1, "TABLE": 2, "TABLE DATA": 2}
    assert report.toc_tables == {("public", "tenants"), ("public", "Odd Name")}
    assert report.complete and report.problems() == []
    tenants = report.tables["public.tenants"]
    # The empty line is a row (one empty column); "\\." escaped is data, not the end marker.
    assert tenants.digest.rows == 4
    assert tenants.digest.hexdigest == expected_digest([b"1\ttenant-001", b"2\ttenant-002", b"", b"3\t\\\\."])
    odd = report.tables['public."Odd Name"']
    assert (odd.schema, odd.name, odd.columns) == ("public", "Odd Name", ("Col, A", "b"))
    assert odd.digest.rows == 2


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(SCRIPT)), max_size=30))
def test_any_chunking_of_the_stream_gives_the_same_report(cuts):
    bounds = [0, *sorted(cuts), len(SCRIPT)]
    report = parse([SCRIPT[a:b] for a, b in zip(bounds, bounds[1:], strict=False)])
    whole = parse([SCRIPT])
    assert {k: (t.digest.rows, t.digest.hexdigest, t.complete) for k, t in report.tables.items()} == {
        k: (t.digest.rows, t.digest.hexdigest, t.complete) for k, t in whole.tables.items()
    }
    assert report.toc == whole.toc and report.complete


def test_output_cut_inside_a_copy_block_names_the_table():
    cut = SCRIPT.index(b"2\ttenant-002")
    report = parse([SCRIPT[:cut]])
    report.returncode = 1
    report.errors.append("could not read from input file: end of file")
    assert report.problems() == [
        "pg_restore failed while reading the data of table public.tenants: "
        "could not read from input file: end of file"
    ]


def test_output_without_closing_comment_is_a_problem_even_with_exit_zero():
    report = parse([SCRIPT[: SCRIPT.index(b"-- PostgreSQL database dump complete")]])
    report.returncode = 0
    assert report.problems() == ["pg_restore's output stopped before the end of the dump"]


def test_identifiers_and_copy_statements_are_split_like_pg_dump_quotes_them():
    assert _identifiers('public."A ""quoted"". name"') == ["public", 'A "quoted". name']
    assert _split_copy('COPY s."t (x)" (a, "b, c") FROM stdin;') == (
        's."t (x)"',
        ["s", "t (x)"],
        ("a", "b, c"),
    )
    assert _split_copy("COPY public.empty  FROM stdin;") == ("public.empty", ["public", "empty"], ())
