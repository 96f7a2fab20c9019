package io.peft4j.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.util.Locale;

/** Reads the mains' inputs: Parquet ({@code .parquet} or a folder of Parquet files) or JSON Lines (anything else). */
final class SparkInputs {
    private SparkInputs() {
    }

    static Dataset<Row> read(SparkSession spark, String path) {
        String p = path.toLowerCase(Locale.ROOT);
        return p.endsWith(".parquet") || p.endsWith(".parquet/") ? spark.read().parquet(path) : spark.read().json(path);
    }
}
