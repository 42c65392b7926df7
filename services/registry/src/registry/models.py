"""The registry's tables: applications and the dialed numbers they own.

Constraint names follow :data:`NAMING_CONVENTION`, so migrations name them the same on SQLite and
PostgreSQL and Alembic can alter them later (SQLite through batch mode).
"""

from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, MetaData, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class App(Base):
    __tablename__ = "apps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    extensions: Mapped[list["AppExtension"]] = relationship(
        back_populates="app",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="AppExtension.position",
    )

    @property
    def extension_list(self) -> list[str]:
        return [e.extension for e in self.extensions]


# Names are unique ignoring case too: the database refuses "Conf" beside "conf".
Index("uq_apps_lower_name", func.lower(App.name), unique=True)


class AppExtension(Base):
    """A dialed number; unique across all apps (the primary key), so one number has one owner."""

    __tablename__ = "app_extensions"

    extension: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    # Keeps the order the operator gave.
    position: Mapped[int] = mapped_column(Integer, default=0)

    app: Mapped[App] = relationship(back_populates="extensions")
