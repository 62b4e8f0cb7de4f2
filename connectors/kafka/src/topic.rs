//! Topic partitions and Kafka's rules for topic names.

use std::fmt;

/// One partition of one topic: the unit Kafka assigns, orders and commits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicPartition {
    /// The topic.
    pub topic: String,
    /// The partition's number.
    pub partition: i32,
}

impl TopicPartition {
    /// Partition `partition` of `topic`.
    pub fn new(topic: impl Into<String>, partition: i32) -> TopicPartition {
        TopicPartition { topic: topic.into(), partition }
    }
}

impl fmt::Display for TopicPartition {
    /// `topic/partition`, as messages and reports name a partition.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.topic, self.partition)
    }
}

/// Kafka's longest topic name.
pub const MAX_TOPIC_NAME: usize = 249;

/// Kafka's rule for topic names: 1 to 249 of ASCII letters, digits, `.`, `_` and `-`, and not
/// `.` or `..`. Files are named after topics, so a name outside it is refused before a broker
/// is asked.
pub fn is_topic_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_TOPIC_NAME
        && name != "."
        && name != ".."
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_topic_names_are_accepted() {
        for name in ["police-incidents", "police.incidents", "a", "A_b-9", "...", ".hidden", &"x".repeat(249)] {
            assert!(is_topic_name(name), "{name}");
        }
    }

    #[test]
    fn names_kafka_refuses_are_refused() {
        for name in ["", ".", "..", "police incidents", "police/incidents", "pólice", "a@b", &"x".repeat(250)] {
            assert!(!is_topic_name(name), "{name:?}");
        }
    }

    #[test]
    fn a_partition_shows_as_topic_slash_partition_and_orders_by_topic_then_number() {
        let a = TopicPartition::new("police", 2);
        assert_eq!(a.to_string(), "police/2");
        let mut all = vec![TopicPartition::new("police", 10), a.clone(), TopicPartition::new("camhs", 7)];
        all.sort();
        assert_eq!(all, [TopicPartition::new("camhs", 7), a, TopicPartition::new("police", 10)]);
    }
}
