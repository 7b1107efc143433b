"""``limits:`` of a CSV drop source (``type: csv`` or ``sftp``): how big a drop may be before it is
refused unread. Sizes are bytes or text with a unit (``4GiB``, ``500 MB``, ``64KiB``); every key
is optional and defaults to the value in config/package_limits.py.
"""

from __future__ import annotations

from pydantic import BaseModel, ByteSize, ConfigDict, Field

from passport_pipelines.config.package_limits import DEFAULT_LIMITS, PackageLimits


class DropLimits(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_total_size: ByteSize = Field(ByteSize(DEFAULT_LIMITS.max_total_size), gt=0,
                                     description="CSV bytes in the drop, unpacked; SFTP: bytes downloaded")
    max_files: int = Field(DEFAULT_LIMITS.max_files, ge=1, description="entries of a zip, CSV files of a folder")
    max_compression_ratio: int = Field(DEFAULT_LIMITS.max_compression_ratio, ge=1,
                                       description="unpacked / packed size of one zip member over 1 MiB")
    max_field_size: ByteSize = Field(ByteSize(DEFAULT_LIMITS.max_field_size), gt=0, description="bytes of one cell")
    max_header_size: ByteSize = Field(ByteSize(DEFAULT_LIMITS.max_header_size), gt=0,
                                      description="bytes of a file's header row")

    def package_limits(self) -> PackageLimits:
        return PackageLimits(max_total_size=int(self.max_total_size), max_files=self.max_files,
                             max_compression_ratio=self.max_compression_ratio,
                             max_field_size=int(self.max_field_size), max_header_size=int(self.max_header_size))
