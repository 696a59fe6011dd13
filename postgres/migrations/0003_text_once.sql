-- A cable's text was kept three times: in body, in search_text (for the
-- full-text index and headlines) and as its paragraphs in cable_json.
-- From this version on a new row keeps it once where it can:
--
-- * body is NULL when search_text is the text itself (valid UTF-8 without
--   NUL, which is nearly every cable); it is kept only for a text that
--   search_text had to change.
-- * text_spans says where in the text each paragraph left out of
--   cable_json is (cable.CutParagraphs); '' keeps every paragraph in
--   cable_json, as rows written before this version do.
--
-- Rows written before are left as they are: they read the same.
ALTER TABLE cables ALTER COLUMN body DROP NOT NULL;
ALTER TABLE cables ADD COLUMN text_spans text NOT NULL DEFAULT '';
