"""Annual reports (政府信息公开工作年度报告) as data: recognise them, read their tables and prose, check the figures.

Owns the extraction and its table in the catalog (`annual_reports`, a schema part created through
`Catalog.ensure_part`; see `reports.store`). May import `archive`.
"""
