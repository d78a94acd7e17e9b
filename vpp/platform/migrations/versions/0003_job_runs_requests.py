"""The daily job's run registry in the platform database, and the runs the API starts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job", sa.String(32), nullable=False),
        sa.Column("date", sa.String(10), nullable=False),
        sa.Column("park", sa.String(200), nullable=False),
        sa.Column("scenario_hash", sa.String(64), nullable=False),
        sa.Column("inputs", sa.Text, nullable=False),
        sa.Column("out_dir", sa.Text, nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("proc_start", sa.BigInteger, nullable=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("started_at", sa.String(32), nullable=False),
        sa.Column("ended_at", sa.String(32), nullable=True),
        sa.Column("duration_s", sa.Float(precision=53), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("exit_code", sa.Integer, nullable=True),
        sa.Column("objective_cny", sa.Float(precision=53), nullable=True),
        sa.Column("kpis", sa.Text, nullable=True),
        sa.Column("outputs", sa.Text, nullable=True),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'ok', 'fallback', 'failed')", name="ck_job_runs_status"
        ),
    )
    op.create_index("ix_job_runs_date", "job_runs", ["date"])
    op.create_index("ix_job_runs_status", "job_runs", ["status"])
    op.create_table(
        "run_requests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("park", sa.String(200), nullable=True),
        sa.Column("date", sa.String(10), nullable=True),
        sa.Column("args", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("flag", sa.String(16), nullable=True),
        sa.Column("requested_by", sa.String(32), nullable=False),
        sa.Column("requested_at", sa.DateTime, nullable=False),
        sa.Column("work_dir", sa.Text, nullable=False),
        sa.Column("pid", sa.Integer, nullable=True),
        sa.Column("proc_start", sa.BigInteger, nullable=True),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("started_at", sa.DateTime, nullable=True),
        sa.Column("ended_at", sa.DateTime, nullable=True),
        sa.Column("exit_code", sa.Integer, nullable=True),
        sa.Column("job_run_id", sa.Integer, nullable=True),
        sa.Column("schedules", sa.Text, nullable=True),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_index("ix_run_requests_status", "run_requests", ["status"])


def downgrade() -> None:
    op.drop_index("ix_run_requests_status", table_name="run_requests")
    op.drop_table("run_requests")
    op.drop_index("ix_job_runs_status", table_name="job_runs")
    op.drop_index("ix_job_runs_date", table_name="job_runs")
    op.drop_table("job_runs")
