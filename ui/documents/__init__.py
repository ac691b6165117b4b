"""Document generation: drafts, exports, the document model, PDF/DOCX rendering, fonts, line breaking."""
