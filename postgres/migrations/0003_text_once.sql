-- A cable's text was kept three times: in body, in search_text (for the
-- full-text index and headlines) and as its paragraphs in cable_json.
-- From this version on a new row keeps it once where it can:
--
-- * raw_text (body before) holds the text's bytes only when search_text
--   is not the text itself (not valid UTF-8, or with a NUL); for nearly
--   every cable it is NULL and search_text is the text.
-- * text_spans says where in the text each paragraph left out of
--   cable_json is (cable.CutParagraphs); '' keeps every paragraph in
--   cable_json, as rows written before this version do.
--
-- Rows written before are left as they are: they read the same. The
-- column is renamed so that a program of an earlier version still running
-- against this database fails on its first read of a text, rather than
-- read NULL as an empty text.
ALTER TABLE cables RENAME COLUMN body TO raw_text;
ALTER TABLE cables ALTER COLUMN raw_text DROP NOT NULL;
ALTER TABLE cables ADD COLUMN text_spans text NOT NULL DEFAULT '';
