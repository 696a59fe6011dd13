-- A cable's paragraphs are in its text word for word. Rather than keep
-- each one twice, in the text and in the JSON, the JSON written from now
-- on leaves the paragraph out and text_spans says where in the text it
-- is. Rows written before keep their paragraphs in the JSON ('').
ALTER TABLE cables ADD COLUMN text_spans TEXT NOT NULL DEFAULT '';
